// The page in a real browser: Debian's Chromium, driven by playwright-core, opens the page from the running
// x86_64 server and checks what a visitor sees: the repository link and both sizes, no request leaving the
// server, no console errors, no horizontal scroll at phone width. Screenshots go to test-output/.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archs, binaryPath, repoRoot, startServer, stopAllServers, type ServerHandle } from '../support/server.js';

const outputDir = path.join(repoRoot, 'test-output');
const repositoryUrl = (process.env.REPO_URL ?? JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).repository.url)
  .replace(/^git\+/, '')
  .replace(/\.git$/, '');

describe.skipIf(!archs.includes('amd64'))('amd64: the page in Chromium', () => {
  let server: ServerHandle;
  let context: BrowserContext;
  let userDataDir: string;
  let origin: string;
  const requests: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    server = await startServer('amd64');
    origin = `http://127.0.0.1:${server.port}`;
    mkdirSync(outputDir, { recursive: true });
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'asm-web-service-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1280, height: 800 },
    });
    context.on('request', (request) => requests.push(request.url()));
    context.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    context.on('weberror', (error) => consoleErrors.push(String(error.error())));
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await stopAllServers();
  });

  it('shows the repository link and both sizes, loads nothing from elsewhere, logs no errors', async () => {
    const page = await context.newPage();
    const response = await page.goto(`${origin}/`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);

    const link = page.locator('#repository');
    await expect.poll(() => link.isVisible()).toBe(true);
    expect(await link.evaluate((anchor: HTMLAnchorElement) => anchor.href)).toBe(repositoryUrl);
    expect((await link.innerText()).trim()).toBe(repositoryUrl);

    const size = statSync(binaryPath('amd64')).size;
    const binarySize = page.locator('#binary-size');
    expect(await binarySize.isVisible()).toBe(true);
    expect(await binarySize.innerText()).toBe(`${size} bytes (${(size / 1024).toFixed(2)} KiB)`);
    const imageSize = page.locator('#image-size');
    expect(await imageSize.isVisible()).toBe(true);
    expect(await imageSize.innerText()).toMatch(process.env.IMAGE_SIZE ? /^\d+ bytes \(\d+\.\d{3} MiB\)$/ : /^N\/A$/);
    expect(await page.title()).toBe('asm-web-service');

    await page.screenshot({ path: path.join(outputDir, 'page-desktop.png'), fullPage: true });
    // Let a favicon request, if the browser makes one, happen before the request list is judged.
    await page.waitForTimeout(300);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it('fits a phone: no horizontal scroll at 360 px, text readable', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${origin}/`, { waitUntil: 'load' });
    const widths = await page.evaluate(() => ({
      document: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
      fontPx: parseFloat(getComputedStyle(document.body).fontSize),
    }));
    expect(widths.document).toBeLessThanOrEqual(widths.viewport);
    expect(widths.fontPx).toBeGreaterThanOrEqual(14);
    expect(await page.locator('#repository').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(outputDir, 'page-phone.png'), fullPage: true });
    expect(statSync(path.join(outputDir, 'page-phone.png')).size).toBeGreaterThan(1000);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});
