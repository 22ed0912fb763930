/**
 * The cdk8s app that deploys the server: one chart with one AsmWebService. `cdk8s synth` (npm run synth) runs it
 * and writes dist/asm-web-service.k8s.yaml; `kubectl apply -f dist` deploys it.
 * The image is the IMAGE environment variable when set, else the `image` field of build/image.json (or of the file
 * IMAGE_JSON names, as for `npm run build:image`, which writes it). Errors end the run with one line on stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { App, Chart } from 'cdk8s';
// The module itself, not lib/index.ts: lib/ is a CommonJS package (jsii), and Node cannot list the names that
// index.ts re-exports with `export *` from a TypeScript file when tsx loads it from this ES module.
import { AsmWebService } from './lib/asm-web-service.js';

const IMAGE_JSON = process.env.IMAGE_JSON || 'build/image.json';

function imageReference(): string {
  if (process.env.IMAGE) return process.env.IMAGE;
  if (!existsSync(IMAGE_JSON)) {
    throw new Error(
      `no image to deploy: run \`npm run build:image\` (writes ${IMAGE_JSON}) or set IMAGE=REPOSITORY@sha256:<digest>`,
    );
  }
  let image: unknown;
  try {
    image = JSON.parse(readFileSync(IMAGE_JSON, 'utf8')).image;
  } catch (error) {
    throw new Error(`${IMAGE_JSON} is not valid JSON (${(error as Error).message}): run \`npm run build:image\` again or set IMAGE`);
  }
  if (typeof image !== 'string') {
    throw new Error(`${IMAGE_JSON} has no "image" string: run \`npm run build:image\` again or set IMAGE=REPOSITORY@sha256:<digest>`);
  }
  return image;
}

try {
  const app = new App();
  const chart = new Chart(app, 'asm-web-service');
  new AsmWebService(chart, 'server', { image: imageReference() });
  app.synth();
} catch (error) {
  // One line a person can act on, not a stack trace.
  console.error(`synth failed: ${(error as Error).message}`);
  process.exit(1);
}
