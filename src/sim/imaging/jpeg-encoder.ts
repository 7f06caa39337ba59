/**
 * Baseline JPEG encoder (JFIF, 4:4:4, the standard Huffman tables of ITU T.81 Annex K, AAN
 * float DCT). jpeg-js rebuilds ~10 ms of tables on every call; here they are built once per
 * quality, so a 256×256 sampler preview costs about 2 ms.
 */
const ZIGZAG = Uint8Array.from([
  0, 1, 5, 6, 14, 15, 27, 28, 2, 4, 7, 13, 16, 26, 29, 42, 3, 8, 12, 17, 25, 30, 41, 43, 9, 11, 18, 24, 31, 40, 44, 53, 10, 19, 23, 32, 39,
  45, 52, 54, 20, 22, 33, 38, 46, 51, 55, 60, 21, 34, 37, 47, 50, 56, 59, 61, 35, 36, 48, 49, 57, 58, 62, 63,
]);

const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22,
  37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_QUANT = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  ...new Array<number>(32).fill(99),
];

interface HuffmanSpec {
  counts: number[];
  symbols: number[];
}

const DC_LUMA: HuffmanSpec = { counts: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
const DC_CHROMA: HuffmanSpec = { counts: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], symbols: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] };
const AC_LUMA: HuffmanSpec = {
  counts: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
  symbols: [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1,
    0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56,
    0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85,
    0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa,
    0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6,
    0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa,
  ],
};
const AC_CHROMA: HuffmanSpec = {
  counts: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
  symbols: [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42,
    0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19,
    0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55,
    0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83,
    0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
    0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4,
    0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa,
  ],
};

/** code and length per symbol */
interface HuffmanTable {
  codes: Uint16Array;
  lengths: Uint8Array;
}

function buildHuffman(spec: HuffmanSpec): HuffmanTable {
  const codes = new Uint16Array(256);
  const lengths = new Uint8Array(256);
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    for (let i = 0; i < (spec.counts[length - 1] ?? 0); i++) {
      const symbol = spec.symbols[k++] ?? 0;
      codes[symbol] = code++;
      lengths[symbol] = length;
    }
    code <<= 1;
  }
  return { codes, lengths };
}

const TABLES = {
  dcLuma: buildHuffman(DC_LUMA),
  acLuma: buildHuffman(AC_LUMA),
  dcChroma: buildHuffman(DC_CHROMA),
  acChroma: buildHuffman(AC_CHROMA),
};

const AAN_SCALE = [1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.5411961, 0.275899379];

interface QualityTables {
  /** Quantisers in zigzag order, as written in DQT. */
  lumaZigzag: Uint8Array;
  chromaZigzag: Uint8Array;
  /** Multipliers folding AAN scaling and quantisation, natural order. */
  lumaDivisors: Float32Array;
  chromaDivisors: Float32Array;
}

const qualityCache = new Map<number, QualityTables>();

function tablesFor(quality: number): QualityTables {
  const cached = qualityCache.get(quality);
  if (cached) return cached;
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  const scale = q < 50 ? Math.floor(5000 / q) : 200 - q * 2;
  const build = (base: number[]): [Uint8Array, Float32Array] => {
    const zigzag = new Uint8Array(64);
    for (let i = 0; i < 64; i++) zigzag[ZIGZAG[i] ?? 0] = Math.min(255, Math.max(1, Math.floor(((base[i] ?? 0) * scale + 50) / 100)));
    const divisors = new Float32Array(64);
    for (let row = 0, k = 0; row < 8; row++) {
      for (let col = 0; col < 8; col++, k++) {
        divisors[k] = 1 / ((zigzag[ZIGZAG[k] ?? 0] ?? 1) * (AAN_SCALE[row] ?? 1) * (AAN_SCALE[col] ?? 1) * 8);
      }
    }
    return [zigzag, divisors];
  };
  const [lumaZigzag, lumaDivisors] = build(LUMA_QUANT);
  const [chromaZigzag, chromaDivisors] = build(CHROMA_QUANT);
  const tables = { lumaZigzag, chromaZigzag, lumaDivisors, chromaDivisors };
  qualityCache.set(quality, tables);
  return tables;
}

/** In-place AAN forward DCT of an 8×8 block, then quantisation into `out` (zigzag order). */
function transformBlock(block: Float32Array, divisors: Float32Array, out: Int16Array): void {
  for (let pass = 0; pass < 2; pass++) {
    const step = pass === 0 ? 1 : 8;
    const next = pass === 0 ? 8 : 1;
    for (let line = 0; line < 8; line++) {
      const o = line * next;
      const d0 = block[o] ?? 0;
      const d1 = block[o + step] ?? 0;
      const d2 = block[o + 2 * step] ?? 0;
      const d3 = block[o + 3 * step] ?? 0;
      const d4 = block[o + 4 * step] ?? 0;
      const d5 = block[o + 5 * step] ?? 0;
      const d6 = block[o + 6 * step] ?? 0;
      const d7 = block[o + 7 * step] ?? 0;
      const t0 = d0 + d7;
      const t7 = d0 - d7;
      const t1 = d1 + d6;
      const t6 = d1 - d6;
      const t2 = d2 + d5;
      const t5 = d2 - d5;
      const t3 = d3 + d4;
      const t4 = d3 - d4;
      const e10 = t0 + t3;
      const e13 = t0 - t3;
      const e11 = t1 + t2;
      const e12 = t1 - t2;
      block[o] = e10 + e11;
      block[o + 4 * step] = e10 - e11;
      const z1 = (e12 + e13) * 0.707106781;
      block[o + 2 * step] = e13 + z1;
      block[o + 6 * step] = e13 - z1;
      const o10 = t4 + t5;
      const o11 = t5 + t6;
      const o12 = t6 + t7;
      const z5 = (o10 - o12) * 0.382683433;
      const z2 = 0.5411961 * o10 + z5;
      const z4 = 1.306562965 * o12 + z5;
      const z3 = o11 * 0.707106781;
      const z11 = t7 + z3;
      const z13 = t7 - z3;
      block[o + 5 * step] = z13 + z2;
      block[o + 3 * step] = z13 - z2;
      block[o + step] = z11 + z4;
      block[o + 7 * step] = z11 - z4;
    }
  }
  for (let i = 0; i < 64; i++) {
    const value = (block[i] ?? 0) * (divisors[i] ?? 0);
    out[ZIGZAG[i] ?? 0] = value > 0 ? (value + 0.5) | 0 : (value - 0.5) | 0;
  }
}

class BitWriter {
  bytes: Uint8Array;
  length = 0;
  private bitBuffer = 0;
  private bitCount = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(value: number): void {
    this.ensure(1);
    this.bytes[this.length++] = value;
  }

  raw(values: ArrayLike<number>): void {
    this.ensure(values.length);
    for (let i = 0; i < values.length; i++) this.bytes[this.length++] = values[i] ?? 0;
  }

  word(value: number): void {
    this.byte((value >> 8) & 0xff);
    this.byte(value & 0xff);
  }

  bits(code: number, count: number): void {
    this.bitBuffer = (this.bitBuffer << count) | (code & ((1 << count) - 1));
    this.bitCount += count;
    while (this.bitCount >= 8) {
      const value = (this.bitBuffer >> (this.bitCount - 8)) & 0xff;
      this.byte(value);
      if (value === 0xff) this.byte(0);
      this.bitCount -= 8;
    }
    this.bitBuffer &= (1 << this.bitCount) - 1;
  }

  flush(): void {
    if (this.bitCount > 0) this.bits(0x7f, 8 - this.bitCount);
  }
}

function bitLength(value: number): number {
  let magnitude = value < 0 ? -value : value;
  let length = 0;
  while (magnitude > 0) {
    length++;
    magnitude >>= 1;
  }
  return length;
}

function encodeBlock(writer: BitWriter, coefficients: Int16Array, previousDc: number, dc: HuffmanTable, ac: HuffmanTable): number {
  const value = coefficients[0] ?? 0;
  const diff = value - previousDc;
  const size = bitLength(diff);
  writer.bits(dc.codes[size] ?? 0, dc.lengths[size] ?? 0);
  if (size > 0) writer.bits(diff < 0 ? diff + (1 << size) - 1 : diff, size);
  let last = 63;
  while (last > 0 && coefficients[last] === 0) last--;
  let run = 0;
  for (let i = 1; i <= last; i++) {
    const coefficient = coefficients[i] ?? 0;
    if (coefficient === 0) {
      run++;
      continue;
    }
    while (run >= 16) {
      writer.bits(ac.codes[0xf0] ?? 0, ac.lengths[0xf0] ?? 0);
      run -= 16;
    }
    const bits = bitLength(coefficient);
    const symbol = (run << 4) | bits;
    writer.bits(ac.codes[symbol] ?? 0, ac.lengths[symbol] ?? 0);
    writer.bits(coefficient < 0 ? coefficient + (1 << bits) - 1 : coefficient, bits);
    run = 0;
  }
  if (last < 63) writer.bits(ac.codes[0] ?? 0, ac.lengths[0] ?? 0);
  return value;
}

function writeHeaders(writer: BitWriter, width: number, height: number, tables: QualityTables): void {
  writer.raw([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  writer.raw([0xff, 0xdb, 0, 132, 0]);
  writer.raw(tables.lumaZigzag);
  writer.byte(1);
  writer.raw(tables.chromaZigzag);
  writer.raw([0xff, 0xc0, 0, 17, 8]);
  writer.word(height);
  writer.word(width);
  writer.raw([3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
  const specs: [number, HuffmanSpec][] = [
    [0x00, DC_LUMA],
    [0x10, AC_LUMA],
    [0x01, DC_CHROMA],
    [0x11, AC_CHROMA],
  ];
  const dhtLength = 2 + specs.reduce((sum, [, spec]) => sum + 17 + spec.symbols.length, 0);
  writer.raw([0xff, 0xc4]);
  writer.word(dhtLength);
  for (const [id, spec] of specs) {
    writer.byte(id);
    writer.raw(spec.counts);
    writer.raw(spec.symbols);
  }
  writer.raw([0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 0x3f, 0]);
}

/** Encodes RGBA (or RGB with `channels` 3) pixels as a baseline JPEG. */
export function encodeJpegBaseline(pixels: Uint8Array, width: number, height: number, quality: number, channels: 3 | 4 = 4): Buffer {
  const tables = tablesFor(quality);
  const writer = new BitWriter(Math.max(1024, (width * height) >> 1));
  writeHeaders(writer, width, height, tables);
  const yBlock = new Float32Array(64);
  const cbBlock = new Float32Array(64);
  const crBlock = new Float32Array(64);
  const coefficients = new Int16Array(64);
  let dcY = 0;
  let dcCb = 0;
  let dcCr = 0;
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let k = 0; k < 64; k++) {
        const y = Math.min(height - 1, by + (k >> 3));
        const x = Math.min(width - 1, bx + (k & 7));
        const p = (y * width + x) * channels;
        const r = pixels[p] ?? 0;
        const g = pixels[p + 1] ?? 0;
        const b = pixels[p + 2] ?? 0;
        yBlock[k] = 0.299 * r + 0.587 * g + 0.114 * b - 128;
        cbBlock[k] = -0.168736 * r - 0.331264 * g + 0.5 * b;
        crBlock[k] = 0.5 * r - 0.418688 * g - 0.081312 * b;
      }
      transformBlock(yBlock, tables.lumaDivisors, coefficients);
      dcY = encodeBlock(writer, coefficients, dcY, TABLES.dcLuma, TABLES.acLuma);
      transformBlock(cbBlock, tables.chromaDivisors, coefficients);
      dcCb = encodeBlock(writer, coefficients, dcCb, TABLES.dcChroma, TABLES.acChroma);
      transformBlock(crBlock, tables.chromaDivisors, coefficients);
      dcCr = encodeBlock(writer, coefficients, dcCr, TABLES.dcChroma, TABLES.acChroma);
    }
  }
  writer.flush();
  writer.raw([0xff, 0xd9]);
  return Buffer.from(writer.bytes.buffer, writer.bytes.byteOffset, writer.length);
}
