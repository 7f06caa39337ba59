/**
 * The benchmark chart: one panel of horizontal bars per measurement, drawn pixel by pixel and
 * encoded with fast-png (no plotting library). Text uses a built-in 5×7 bitmap font.
 */
import { encode } from 'fast-png';

export interface Bar {
  label: string;
  value: number;
  /** Shown after the bar, e.g. "3.1 ms  1.02×". */
  text: string;
  kind: 'pyros' | 'floor' | 'peer' | 'failed';
}

export interface Panel {
  title: string;
  bars: Bar[];
}

// 5×7 glyphs, one string of 7 rows of 5 bits each ('#' = ink). Lower case is drawn as upper case.
const GLYPHS: Record<string, string> = {
  A: '.###.#...##...#######...##...##...#',
  B: '####.#...##...#####.#...##...#####.',
  C: '.###.#...##....#....#....#...#.###.',
  D: '####.#...##...##...##...##...#####.',
  E: '######....#....####.#....#....#####',
  F: '######....#....####.#....#....#....',
  G: '.###.#...##....#.####...##...#.####',
  H: '#...##...##...#######...##...##...#',
  I: '.###...#....#....#....#....#...###.',
  J: '..###...#....#....#....#.#..#..##..',
  K: '#...##..#.#.#..##...#.#..#..#.#...#',
  L: '#....#....#....#....#....#....#####',
  M: '#...###.###.#.##.#.##...##...##...#',
  N: '#...##...###..##.#.##..###...##...#',
  O: '.###.#...##...##...##...##...#.###.',
  P: '####.#...##...#####.#....#....#....',
  Q: '.###.#...##...##...##.#.##..#..##.#',
  R: '####.#...##...#####.#.#..#..#.#...#',
  S: '.#####....#.....###.....#....#####.',
  T: '#####..#....#....#....#....#....#..',
  U: '#...##...##...##...##...##...#.###.',
  V: '#...##...##...##...##...#.#.#...#..',
  W: '#...##...##...##.#.##.#.##.#.#.#.#.',
  X: '#...##...#.#.#...#...#.#.#...##...#',
  Y: '#...##...#.#.#...#....#....#....#..',
  Z: '#####....#...#...#...#...#....#####',
  '0': '.###.#...##..###.#.###..##...#.###.',
  '1': '..#...##....#....#....#....#...###.',
  '2': '.###.#...#....#...#...#...#...#####',
  '3': '#####...#...#.....#.....##...#.###.',
  '4': '...#...##..#.#.#..#.#####...#....#.',
  '5': '######....####.....#....##...#.###.',
  '6': '..##..#...#....####.#...##...#.###.',
  '7': '#####....#...#...#...#....#....#...',
  '8': '.###.#...##...#.###.#...##...#.###.',
  '9': '.###.#...##...#.####....#...#..##..',
  '.': '..........................##...##..',
  ',': '.....................##....#...#...',
  ':': '......##...##........##...##.......',
  '-': '...............#####...............',
  '+': '.......#....#..#####..#....#.......',
  '(': '...#...#...#....#....#.....#.....#.',
  ')': '.#.....#.....#....#....#...#...#...',
  '/': '....#....#...#...#...#...#....#....',
  '%': '##...##..#...#...#...#...#..##...##',
  '×': '.....#...#.#.#...#...#.#.#...#.....',
  '≤': '...#...#...#.....#.....#......#####',
  '=': '..........#####.....#####..........',
  '_': '..............................#####',
  ' ': '...................................',
};

function glyph(ch: string): string {
  const g = GLYPHS[ch] ?? GLYPHS[ch.toUpperCase()] ?? GLYPHS[' '];
  return (g as string).padEnd(35, '.').slice(0, 35);
}

type Rgb = [number, number, number];
const COLORS: Record<Bar['kind'] | 'text' | 'dim' | 'bg' | 'grid', Rgb> = {
  pyros: [232, 110, 30],
  floor: [120, 120, 120],
  peer: [70, 120, 200],
  failed: [200, 60, 60],
  text: [30, 30, 30],
  dim: [110, 110, 110],
  bg: [255, 255, 255],
  grid: [225, 225, 225],
};

class Canvas {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
    this.data = new Uint8Array(width * height * 3).fill(255);
  }

  rect(x: number, y: number, w: number, h: number, color: Rgb): void {
    for (let yy = Math.max(0, y); yy < Math.min(this.height, y + h); yy++) {
      for (let xx = Math.max(0, x); xx < Math.min(this.width, x + w); xx++) {
        const at = (yy * this.width + xx) * 3;
        this.data[at] = color[0];
        this.data[at + 1] = color[1];
        this.data[at + 2] = color[2];
      }
    }
  }

  text(x: number, y: number, text: string, color: Rgb, scale = 2): number {
    let cx = x;
    for (const ch of text) {
      const g = glyph(ch);
      for (let row = 0; row < 7; row++) {
        for (let col = 0; col < 5; col++) if (g[row * 5 + col] === '#') this.rect(cx + col * scale, y + row * scale, scale, scale, color);
      }
      cx += 6 * scale;
    }
    return cx;
  }
}

export function textWidth(text: string, scale = 2): number {
  return [...text].length * 6 * scale;
}

/** Draws the panels, one under the other; returns PNG bytes. */
export function drawChart(title: string, subtitle: string, panels: Panel[]): Uint8Array {
  const width = 1000;
  const labelWidth = 220;
  const barArea = 500;
  const rowHeight = 22;
  const height = 70 + panels.reduce((sum, panel) => sum + 34 + panel.bars.length * rowHeight + 14, 0);
  const canvas = new Canvas(width, height);
  canvas.text(16, 14, title, COLORS.text, 3);
  canvas.text(16, 42, subtitle, COLORS.dim, 2);
  let y = 70;
  for (const panel of panels) {
    canvas.rect(16, y, width - 32, 1, COLORS.grid);
    canvas.text(16, y + 10, panel.title, COLORS.text, 2);
    y += 34;
    const max = Math.max(...panel.bars.map((bar) => (Number.isFinite(bar.value) ? bar.value : 0)), 1e-9);
    for (const bar of panel.bars) {
      canvas.text(16, y + 3, bar.label.slice(0, 16), bar.kind === 'pyros' ? COLORS.pyros : COLORS.text, 2);
      const length = Number.isFinite(bar.value) ? Math.max(2, Math.round((bar.value / max) * barArea)) : 0;
      canvas.rect(labelWidth, y + 2, length, rowHeight - 6, COLORS[bar.kind]);
      canvas.text(labelWidth + length + 8, y + 3, bar.text, COLORS.dim, 2);
      y += rowHeight;
    }
    y += 14;
  }
  return encode({ width, height, data: canvas.data, channels: 3, depth: 8 });
}
