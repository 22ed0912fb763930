/** The package's public API: the AsmWebService construct and its props. */
export * from './asm-web-service.js';
