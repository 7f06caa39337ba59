/**
 * The gallery page in a real headless Chromium (Debian's), driven with playwright-core. The
 * project is type-checked without the DOM library: code run in the page reaches it untyped.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startGallery, type Gallery } from '../../src/gallery/server.ts';
import { writeOutput } from './fixtures/outputs.ts';
import { WAIT_LIMIT_MS } from '../support/wait.ts';

// The page's globals, untyped here.
type InPage = any;

const CHROMIUM = process.env.PYROS_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const LONG_PROMPT = 'a lighthouse at dusk on a rocky coast,\nwaves breaking, oil painting, dramatic sky, warm light in the windows, seagulls, detailed';

describe('gallery page in a browser', { skip: hasChromium ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)` }, () => {
  let dir = '';
  let gallery: Gallery;
  let browser: Browser;
  let page: Page;

  const cards = (): Promise<string[]> => page.locator('#grid .card').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-file') ?? ''));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pyros-gallery-browser-'));
    writeOutput(dir, { name: 'pyros_00001_.png', prompt: LONG_PROMPT, seed: 11, savedAt: '2026-01-01T10:00:00.000Z', rgb: [30, 60, 200] });
    writeOutput(dir, { name: 'pyros_00002_.png', prompt: 'a red fox in the snow', template: 'a __color__ fox in the snow', seed: 22, savedAt: '2026-01-01T11:00:00.000Z', rgb: [200, 60, 30] });
    writeOutput(dir, { name: 'pyros_00003_.png', prompt: 'a blue whale', seed: 33, savedAt: '2026-01-01T12:00:00.000Z', rgb: [20, 160, 200] });
    gallery = await startGallery({ dir, debounceMs: 30 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gallery.url.replace(/\/$/, '') });
    page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(gallery.url);
    await page.waitForSelector('#grid .card');
    assert.deepEqual(errors, []);
  });

  after(async () => {
    await browser?.close();
    await gallery?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the saved images as a grid, newest first', async () => {
    assert.deepEqual(await cards(), ['pyros_00003_.png', 'pyros_00002_.png', 'pyros_00001_.png']);
    // The thumbnails are the images themselves, loaded.
    await page.waitForFunction(() => [...((globalThis as InPage).document.querySelectorAll('#grid img') as Iterable<InPage>)].every((img) => img.complete && img.naturalWidth === 16));
    assert.equal(await page.locator('#count').textContent(), '3 outputs');
    assert.equal(await page.locator('.card[data-file="pyros_00002_.png"] .prompt').textContent(), 'a red fox in the snow');
  });

  it('adds a new image without a reload', async () => {
    await page.evaluate('window.marker = 1');
    await page.waitForSelector('#live.on');
    writeOutput(dir, { name: 'pyros_00004_.png', prompt: 'a new arrival', seed: 44, savedAt: '2026-01-01T13:00:00.000Z', rgb: [40, 200, 60] });
    await page.waitForSelector('.card[data-file="pyros_00004_.png"]', { timeout: WAIT_LIMIT_MS });
    assert.deepEqual(await cards(), ['pyros_00004_.png', 'pyros_00003_.png', 'pyros_00002_.png', 'pyros_00001_.png']);
    assert.equal(await page.evaluate('window.marker'), 1, 'the page was not reloaded');
  });

  it('opens a detail view with the full prompt and the command that makes it again', async () => {
    await page.locator('.card[data-file="pyros_00001_.png"]').click();
    await page.waitForSelector('#detail[open]');
    assert.equal(await page.locator('#detail-prompt').textContent(), LONG_PROMPT);
    const command = "pyros run /home/me/flows/txt2img.json --prompt 'a lighthouse at dusk on a rocky coast,\nwaves breaking, oil painting, dramatic sky, warm light in the windows, seagulls, detailed' --seed 11 --server http://127.0.0.1:8188";
    assert.equal(await page.locator('#detail-command').textContent(), command);
    await page.locator('#copy-command').click();
    await page.waitForFunction(() => (globalThis as InPage).document.getElementById('copied')?.textContent === 'Copied');
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), command);
    assert.ok(await page.locator('#detail-meta').textContent().then((text) => text?.includes('seed11')));
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.locator('#detail-prompt').textContent(), 'a red fox in the snow');
    assert.equal(await page.locator('#detail-template').textContent(), 'written as: a __color__ fox in the snow');
    assert.match((await page.locator('#detail-command').textContent()) ?? '', /--prompt 'a __color__ fox in the snow' --seed 22/);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#detail:not([open])', { state: 'attached' });
  });

  it('filters by prompt text', async () => {
    await page.locator('#search').fill('FOX');
    assert.deepEqual(await cards(), ['pyros_00002_.png']);
    assert.equal(await page.locator('#count').textContent(), '1 of 4');
    await page.locator('#search').fill('rocky coast');
    assert.deepEqual(await cards(), ['pyros_00001_.png']);
    await page.locator('#search').fill('zebra');
    assert.deepEqual(await cards(), []);
    assert.equal(await page.locator('#empty').textContent(), 'Nothing matches “zebra”.');
    await page.locator('#search').fill('');
    assert.equal((await cards()).length, 4);
  });
});
