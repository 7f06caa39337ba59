import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import { ansi256ToRgb, encodeBlocks, nearestAnsi256 } from '../../src/ui/preview/blocks.ts';
import { decodeImage, fitCells, scaleImage, type RgbaImage } from '../../src/ui/preview/decode.ts';
import { encodeIterm } from '../../src/ui/preview/iterm.ts';
import { deleteKitty, encodeKitty, placeKitty } from '../../src/ui/preview/kitty.ts';
import { encodeSixel, sixelPixelSize } from '../../src/ui/preview/sixel.ts';
import { imageSize } from '../../src/ui/image-size.ts';
import { JPEG_PREVIEW, PNG_IMAGE } from './fixtures/frames.ts';

/** A w×h image whose every pixel has a different, predictable colour. */
function testImage(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = (x * 60 + 10) % 256;
      data[i + 1] = (y * 50 + 20) % 256;
      data[i + 2] = (x * 30 + y * 70) % 256;
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

function pixel(image: RgbaImage, x: number, y: number): [number, number, number] {
  const i = (y * image.width + x) * 4;
  return [image.data[i] ?? -1, image.data[i + 1] ?? -1, image.data[i + 2] ?? -1];
}

type Rgb = [number, number, number];

/** Reads half-block rows back: per cell, the foreground (upper) and background (lower) colour. */
function parseBlockRow(line: string): { fg: Rgb; bg: Rgb }[] {
  const cells: { fg: Rgb; bg: Rgb }[] = [];
  let fg: Rgb = [-1, -1, -1];
  let bg: Rgb = [-1, -1, -1];
  const tokens = line.match(/\x1b\[[\d;]*m|▀/g) ?? [];
  for (const token of tokens) {
    if (token === '▀') {
      cells.push({ fg, bg });
      continue;
    }
    const params = token.slice(2, -1).split(';').map(Number);
    for (let i = 0; i < params.length; i++) {
      const code = params[i];
      if (code === 38 || code === 48) {
        let color: Rgb;
        if (params[i + 1] === 2) {
          color = [params[i + 2] ?? -1, params[i + 3] ?? -1, params[i + 4] ?? -1];
          i += 4;
        } else {
          color = ansi256ToRgb(params[i + 2] ?? 0);
          i += 2;
        }
        if (code === 38) fg = color;
        else bg = color;
      }
    }
  }
  return cells;
}

/** The payload and control keys of each kitty APC command in `text`. */
function kittyCommands(text: string): { keys: Record<string, string>; payload: string }[] {
  return [...text.matchAll(/\x1b_G([^;\x1b]*)(?:;([^\x1b]*))?\x1b\\/g)].map((match) => ({
    keys: Object.fromEntries((match[1] ?? '').split(',').map((kv) => kv.split('=') as [string, string])),
    payload: match[2] ?? '',
  }));
}

describe('decode', () => {
  it('decodes the recorded JPEG preview to 512×512 RGBA', () => {
    const image = decodeImage('image/jpeg', JPEG_PREVIEW);
    assert.equal(image.width, 512);
    assert.equal(image.height, 512);
    assert.equal(image.data.length, 512 * 512 * 4);
    assert.equal(image.data[3], 255);
  });

  it('decodes PNG (the recorded RGB one, and RGBA, grey and palette ones) to RGBA', () => {
    const png = decodeImage('image/png', PNG_IMAGE);
    assert.deepEqual([png.width, png.height], [32, 32]);
    const source = testImage(3, 2);
    const rgba = decodeImage('image/png', encodePng({ width: 3, height: 2, data: source.data, channels: 4, depth: 8 }));
    assert.deepEqual([...rgba.data], [...source.data]);
    const grey = decodeImage('image/png', encodePng({ width: 2, height: 1, data: new Uint8Array([0, 200]), channels: 1, depth: 8 }));
    assert.deepEqual([...grey.data], [0, 0, 0, 255, 200, 200, 200, 255]);
    const indexed = decodeImage(
      'image/png',
      encodePng({ width: 2, height: 1, data: new Uint8Array([1, 0]), channels: 1, depth: 8, palette: [[10, 20, 30], [200, 100, 50]] }),
    );
    assert.deepEqual([...indexed.data], [200, 100, 50, 255, 10, 20, 30, 255]);
  });

  it('refuses formats it cannot decode', () => {
    assert.throws(() => decodeImage('image/webp', Buffer.from('RIFF')), /cannot decode image\/webp/);
  });

  it('averages when shrinking and repeats when enlarging', () => {
    const image: RgbaImage = { width: 2, height: 2, data: new Uint8Array([0, 0, 0, 255, 100, 100, 100, 255, 200, 200, 200, 255, 100, 100, 100, 255]) };
    assert.deepEqual([...scaleImage(image, 1, 1).data], [100, 100, 100, 255]);
    const big = scaleImage(image, 4, 4);
    assert.deepEqual(pixel(big, 0, 0), [0, 0, 0]);
    assert.deepEqual(pixel(big, 1, 1), [0, 0, 0]);
    assert.deepEqual(pixel(big, 3, 0), [100, 100, 100]);
    assert.deepEqual(pixel(big, 0, 3), [200, 200, 200]);
  });

  it('fits cells keeping the aspect ratio with cells twice as tall as wide', () => {
    assert.deepEqual(fitCells(512, 512, 80, 24), { cols: 48, rows: 24 });
    assert.deepEqual(fitCells(512, 512, 20, 24), { cols: 20, rows: 10 });
    assert.deepEqual(fitCells(1024, 512, 80, 30), { cols: 80, rows: 20 });
    assert.deepEqual(fitCells(512, 512, 80, 24, 1), { cols: 24, rows: 24 });
  });

  it('reads dimensions from PNG and JPEG headers', () => {
    assert.deepEqual(imageSize(PNG_IMAGE), { format: 'png', width: 32, height: 32 });
    assert.deepEqual(imageSize(JPEG_PREVIEW), { format: 'jpeg', width: 512, height: 512 });
    assert.equal(imageSize(Buffer.from('not an image at all, really')), undefined);
  });
});

describe('half blocks', () => {
  it('puts the upper pixel in the foreground and the lower one in the background (truecolor)', () => {
    const image = testImage(4, 6);
    const lines = encodeBlocks(image, { cols: 4, rows: 3 }, 'truecolor');
    assert.equal(lines.length, 3);
    lines.forEach((line, row) => {
      assert.ok(line.endsWith('\x1b[0m'), 'each row resets its colours');
      const cells = parseBlockRow(line);
      assert.equal(cells.length, 4);
      cells.forEach((cell, col) => {
        assert.deepEqual(cell.fg, pixel(image, col, row * 2), `fg of cell ${col},${row}`);
        assert.deepEqual(cell.bg, pixel(image, col, row * 2 + 1), `bg of cell ${col},${row}`);
      });
    });
  });

  it('uses the nearest xterm-256 colour when truecolor is not available', () => {
    const image = testImage(4, 4);
    const lines = encodeBlocks(image, { cols: 4, rows: 2 }, '256');
    assert.ok(!lines.join('').includes('38;2;'), 'no truecolor sequences');
    lines.forEach((line, row) => {
      parseBlockRow(line).forEach((cell, col) => {
        const [r, g, b] = pixel(image, col, row * 2);
        assert.deepEqual(cell.fg, ansi256ToRgb(nearestAnsi256(r, g, b)));
        // Within one step of the colour cube.
        cell.fg.forEach((channel, i) => assert.ok(Math.abs(channel - [r, g, b][i]!) <= 48, `channel ${i} of ${col},${row}`));
      });
    });
    assert.equal(nearestAnsi256(0, 0, 0), 16);
    assert.equal(nearestAnsi256(255, 0, 0), 196);
    assert.equal(nearestAnsi256(128, 128, 128), 244);
  });

  it('scales a large preview to the requested cells', () => {
    const image = decodeImage('image/jpeg', JPEG_PREVIEW);
    const lines = encodeBlocks(image, { cols: 40, rows: 20 });
    assert.equal(lines.length, 20);
    for (const line of lines) assert.equal(parseBlockRow(line).length, 40);
    const expected = scaleImage(image, 40, 40);
    assert.deepEqual(parseBlockRow(lines[7]!)[13]!.fg, pixel(expected, 13, 14));
  });
});

describe('kitty', () => {
  it('passes PNG bytes through with f=100, in chunks of at most 4096 base64 characters', () => {
    const png = Buffer.concat([PNG_IMAGE, Buffer.alloc(9000, 7)]); // long enough for three chunks
    const commands = kittyCommands(encodeKitty({ png }, { cols: 10, rows: 5 }, { id: 42 }));
    assert.equal(commands.length, 3);
    const first = commands[0]!.keys;
    assert.equal(first.a, 'T');
    assert.equal(first.f, '100');
    assert.equal(first.i, '42');
    assert.equal(first.c, '10');
    assert.equal(first.r, '5');
    assert.equal(first.q, '2');
    assert.deepEqual(
      commands.map((c) => c.keys.m),
      ['1', '1', '0'],
    );
    for (const command of commands) assert.ok(command.payload.length <= 4096);
    const bytes = Buffer.from(commands.map((c) => c.payload).join(''), 'base64');
    assert.deepEqual(bytes, png);
  });

  it('sends decoded pixels as zlib-compressed RGB (f=24,o=z)', () => {
    const image = decodeImage('image/jpeg', JPEG_PREVIEW);
    const commands = kittyCommands(encodeKitty({ pixels: image }, { cols: 48, rows: 24 }, { id: 7 }));
    const first = commands[0]!.keys;
    assert.equal(first.f, '24');
    assert.equal(first.o, 'z');
    assert.equal(first.s, '512');
    assert.equal(first.v, '512');
    assert.equal(commands.at(-1)!.keys.m, '0');
    const rgb = inflateSync(Buffer.from(commands.map((c) => c.payload).join(''), 'base64'));
    assert.equal(rgb.length, 512 * 512 * 3);
    for (const [x, y] of [[0, 0], [511, 511], [100, 300]] as const) {
      const i = (y * 512 + x) * 3;
      assert.deepEqual([rgb[i], rgb[i + 1], rgb[i + 2]], pixel(image, x, y));
    }
  });

  it('deletes by id (keeping or freeing the data) and places a stored image again', () => {
    assert.equal(deleteKitty(9, { free: true }), '\x1b_Ga=d,d=I,i=9,q=2\x1b\\');
    assert.equal(deleteKitty(9, { free: false }), '\x1b_Ga=d,d=i,i=9,q=2\x1b\\');
    assert.equal(placeKitty(9, { cols: 4, rows: 2 }), '\x1b_Ga=p,i=9,c=4,r=2,C=1,q=2\x1b\\');
  });
});

describe('iTerm2', () => {
  it('wraps the original bytes in OSC 1337 with the size in cells', () => {
    const text = encodeIterm(JPEG_PREVIEW, { cols: 30, rows: 15 });
    const match = /^\x1b\]1337;File=([^:]*):([A-Za-z0-9+/=]*)\x07$/.exec(text);
    assert.ok(match, 'one OSC 1337 sequence ended by BEL');
    const args = Object.fromEntries(match[1]!.split(';').map((kv) => kv.split('=') as [string, string]));
    assert.deepEqual(args, { inline: '1', size: String(JPEG_PREVIEW.length), width: '30', height: '15', preserveAspectRatio: '1' });
    assert.deepEqual(Buffer.from(match[2]!, 'base64'), JPEG_PREVIEW);
  });
});

describe('sixel', () => {
  it('writes a DCS sequence with raster attributes of the expected size and a palette of at most 256 colours', () => {
    const image = decodeImage('image/jpeg', JPEG_PREVIEW);
    const cells = { cols: 20, rows: 10 };
    const size = sixelPixelSize(cells, { width: 10, height: 20 });
    assert.deepEqual(size, { width: 200, height: 198 });
    const text = encodeSixel(image, cells, { cellPixels: { width: 10, height: 20 } });
    assert.ok(text.startsWith('\x1bP0;0;q'), 'DCS introducer');
    assert.ok(text.endsWith('\x1b\\'), 'string terminator');
    const raster = /^\x1bP0;0;q"1;1;(\d+);(\d+)/.exec(text);
    assert.ok(raster, 'raster attributes right after the introducer');
    assert.deepEqual([Number(raster[1]), Number(raster[2])], [200, 198]);
    const palette = new Set([...text.matchAll(/#(\d+);2;(\d+);(\d+);(\d+)/g)].map((m) => Number(m[1])));
    assert.ok(palette.size > 16, `a real palette (${palette.size} colours)`);
    assert.ok(palette.size <= 256);
    assert.ok(Math.max(...palette) < 256);
  });

  it('caps the pixel size and keeps the height a multiple of six', () => {
    const size = sixelPixelSize({ cols: 80, rows: 40 }, { width: 10, height: 20 }, 384);
    assert.ok(size.width <= 384 && size.height <= 384);
    assert.equal(size.height % 6, 0);
  });
});
