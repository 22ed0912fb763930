// The build's output (`npm run build:asm`): each binary is a static, stripped ELF64 executable for its machine,
// with no interpreter and no dynamic section, and the page it serves states its exact size and the repository.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, request } from '../support/http.js';
import { archs, binaryPath, builtPage, repoRoot, slowdown, startServer, stopAllServers, type Arch, type ServerHandle } from '../support/server.js';

const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_LOAD = 1;
const machineOf: Record<Arch, { eMachine: number; readelf: string }> = {
  amd64: { eMachine: 62, readelf: 'Advanced Micro Devices X86-64' },
  arm64: { eMachine: 183, readelf: 'AArch64' },
};

interface ElfFacts {
  magic: string;
  elfClass: number;
  dataEncoding: number;
  type: number;
  machine: number;
  entry: bigint;
  segments: { type: number; flags: number; offset: number; vaddr: bigint; filesz: number; memsz: bigint }[];
  sectionHeaderOffset: number;
  sectionHeaderCount: number;
  sections: { name: string; type: number }[];
}

/** Reads the ELF64 little-endian header, program headers and section headers. */
function readElf(file: Buffer): ElfFacts {
  const facts: ElfFacts = {
    magic: file.subarray(0, 4).toString('latin1'),
    elfClass: file[4],
    dataEncoding: file[5],
    type: file.readUInt16LE(16),
    machine: file.readUInt16LE(18),
    entry: file.readBigUInt64LE(24),
    segments: [],
    sections: [],
    sectionHeaderOffset: Number(file.readBigUInt64LE(40)),
    sectionHeaderCount: file.readUInt16LE(60),
  };
  const phoff = Number(file.readBigUInt64LE(32));
  const shoff = Number(file.readBigUInt64LE(40));
  const phentsize = file.readUInt16LE(54);
  const phnum = file.readUInt16LE(56);
  const shentsize = file.readUInt16LE(58);
  const shnum = file.readUInt16LE(60);
  const shstrndx = file.readUInt16LE(62);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    facts.segments.push({
      type: file.readUInt32LE(at),
      flags: file.readUInt32LE(at + 4),
      offset: Number(file.readBigUInt64LE(at + 8)),
      vaddr: file.readBigUInt64LE(at + 16),
      filesz: Number(file.readBigUInt64LE(at + 32)),
      memsz: file.readBigUInt64LE(at + 40),
    });
  }
  if (shnum > 0 && shoff > 0) {
    const namesAt = Number(file.readBigUInt64LE(shoff + shstrndx * shentsize + 24));
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      const nameOffset = namesAt + file.readUInt32LE(at);
      facts.sections.push({
        name: file.subarray(nameOffset, file.indexOf(0, nameOffset)).toString('latin1'),
        type: file.readUInt32LE(at + 4),
      });
    }
  }
  return facts;
}

/** The repository URL the page must link: REPO_URL if the build was given one, else package.json's. */
function expectedRepositoryUrl(): string {
  const fromPackage = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).repository.url as string;
  return (process.env.REPO_URL ?? fromPackage).replace(/^git\+/, '').replace(/\.git$/, '');
}

/** The text of the element with this id in the page (fields are padded with spaces, which HTML collapses). */
export function fieldText(page: string, id: string): string | undefined {
  return new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(page)?.[1];
}

describe.each(archs)('%s: the built binary', (arch) => {
  let binary: Buffer;
  let elf: ElfFacts;

  beforeAll(() => {
    binary = readFileSync(binaryPath(arch));
    elf = readElf(binary);
    console.log(`${arch}: ${binaryPath(arch)} is ${binary.length} bytes (${(binary.length / 1024).toFixed(2)} KiB), page ${builtPage(arch).length} bytes`);
  });
  afterAll(stopAllServers);

  it('is a 64-bit little-endian ELF executable for its machine', () => {
    expect(elf.magic).toBe('\x7fELF');
    expect(elf.elfClass).toBe(2);
    expect(elf.dataEncoding).toBe(1);
    expect(elf.type).toBe(2); // ET_EXEC: not position-independent, so nothing to relocate at start
    expect(elf.machine).toBe(machineOf[arch].eMachine);
  });

  it('is static: no PT_INTERP, no PT_DYNAMIC, entry inside an executable PT_LOAD', () => {
    const types = elf.segments.map((segment) => segment.type);
    expect(types).not.toContain(PT_INTERP);
    expect(types).not.toContain(PT_DYNAMIC);
    const loads = elf.segments.filter((segment) => segment.type === PT_LOAD);
    expect(loads.length).toBeGreaterThan(0);
    const entrySegment = loads.find((segment) => elf.entry >= segment.vaddr && elf.entry < segment.vaddr + segment.memsz);
    expect(entrySegment, 'the entry point is in a loaded segment').toBeDefined();
    expect(entrySegment!.flags & 1, 'that segment is executable').toBe(1);
  });

  it('is stripped to its loaded bytes: no section headers, nothing after the last loaded byte, no symbol names', () => {
    // asm/build.sh drops the section header table (and with it every symbol table and debug section).
    expect(elf.sectionHeaderOffset).toBe(0);
    expect(elf.sectionHeaderCount).toBe(0);
    const loadedEnd = Math.max(...elf.segments.filter((segment) => segment.type === PT_LOAD).map((segment) => segment.offset + segment.filesz));
    expect(binary.length).toBe(loadedEnd);
    // A symbol or section name sits in a string table between NULs ("process_start_time_seconds" in the
    // metrics' text holds "_start", which is no symbol).
    for (const name of ['_start', 'parse_request', 'sweep_timers', 'on_readable', 'render_metrics', '.symtab', '.debug']) {
      expect(binary.includes(Buffer.from(`\0${name}\0`)), `the name ${name} is in the file`).toBe(false);
    }
  });

  it('readelf agrees', async () => {
    const headers = await execa('readelf', ['-h', '-l', '-S', '-W', binaryPath(arch)]);
    expect(headers.stdout).toMatch(/Type:\s+EXEC/);
    expect(headers.stdout).toContain(machineOf[arch].readelf);
    expect(headers.stdout).not.toMatch(/\bINTERP\b|\bDYNAMIC\b|\.symtab|\.dynamic/);
    const symbols = await execa('readelf', ['-s', '-W', binaryPath(arch)]);
    expect(symbols.stdout).not.toMatch(/Symbol table/);
  });

  it('holds the page the build filled in, byte for byte', () => {
    expect(binary.includes(builtPage(arch))).toBe(true);
  });

  describe('the page it serves', () => {
    let server: ServerHandle;
    let page: string;
    beforeAll(async () => {
      server = await startServer(arch);
      const { responses } = await exchange(server.port, request('GET', '/'), { responses: 1, timeoutMs: 3000 * slowdown(arch) });
      page = responses[0].body.toString('utf8');
    });

    it('states the exact size of the file serving it, in bytes and KiB', () => {
      const field = fieldText(page, 'binary-size');
      expect(field).toBeDefined();
      const size = binary.length;
      expect(field!.trim()).toBe(`${size} bytes (${(size / 1024).toFixed(2)} KiB)`);
    });

    it('states the image size, N/A in a build outside an image', () => {
      const field = fieldText(page, 'image-size')?.trim();
      if (process.env.IMAGE_SIZE) {
        const bytes = Number(process.env.IMAGE_SIZE);
        expect(field).toBe(`${bytes} bytes (${(bytes / 1048576).toFixed(3)} MiB)`);
      } else {
        expect(field).toBe('N/A');
      }
    });

    it('links the repository', () => {
      const href = /<a id="repository" href="([^"]*)"/.exec(page)?.[1];
      expect(href?.trim()).toBe(expectedRepositoryUrl());
      expect(fieldText(page, 'repository')?.trim()).toBe(expectedRepositoryUrl());
    });

    it('names its platform', () => {
      expect(fieldText(page, 'platform')?.trim()).toBe(`linux/${arch}`);
    });

    it('pads with spaces only: valid UTF-8, no NUL or other control bytes, a complete HTML5 document', () => {
      const bytes = Buffer.from(page, 'utf8');
      expect(bytes.equals(builtPage(arch))).toBe(true);
      expect([...bytes].filter((byte) => (byte < 0x20 && byte !== 0x0a && byte !== 0x09) || byte === 0x7f)).toEqual([]);
      expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
      expect(page).toMatch(/<html lang="[a-z]+">/);
      expect(page).toMatch(/<meta charset="utf-8">/i);
      expect(page).toMatch(/<meta name="viewport" content="width=device-width/);
      expect(page).toMatch(/<title>[^<]+<\/title>/);
      // Self-contained: no external resources of any kind.
      expect(page).not.toMatch(/<(script|link|img|iframe|object|embed)\b|url\(|@import|src=/i);
    });
  });
});
