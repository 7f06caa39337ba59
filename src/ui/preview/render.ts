/**
 * One preview frame → what the live display writes for it, for the chosen protocol. Sizes are in
 * cells: the image gets the largest box with its aspect ratio inside the space it is offered.
 */
import type { ImageMime } from '../../client/binary.ts';
import { imageSize } from '../image-size.ts';
import { encodeBlocks } from './blocks.ts';
import { fitCells, scaleImage, type CellSize, type RgbaImage } from './decode.ts';
import type { PreviewChoice, PreviewProtocol } from './detect.ts';
import { encodeIterm } from './iterm.ts';
import { deleteKitty, encodeKitty, placeKitty } from './kitty.ts';
import { DEFAULT_CELL_PIXELS, encodeSixel } from './sixel.ts';

export interface PreviewInput {
  mime: ImageMime;
  bytes: Uint8Array;
  /** Decoded pixels, present when the renderer asked for them. */
  pixels?: RgbaImage;
}

export interface RenderedPreview {
  protocol: PreviewProtocol;
  cols: number;
  rows: number;
  /** `blocks`: one string per row, croppable. */
  lines?: string[];
  /** Graphics protocols: the escape sequence that shows the image at the cursor, the first time. */
  draw?: string;
  /** …and again after the live area moved (kitty re-places the stored image instead of re-sending it). */
  redraw?: string;
  /** Removes it from the screen where erasing text does not (kitty). */
  clear?: string;
}

export interface PreviewRenderer {
  readonly protocol: PreviewProtocol;
  needsPixels(mime: ImageMime): boolean;
  render(input: PreviewInput, box: CellSize): RenderedPreview | undefined;
  /** The image on screen stays there (final frame): later images must not replace it (kitty ids). */
  detach?(): void;
}

/** Random per process, so two pyros runs in one kitty window do not replace each other's image. */
function kittyImageId(): number {
  return 1 + Math.floor(Math.random() * 0x7ffffffe);
}

function sizeOf(input: PreviewInput): { width: number; height: number } {
  if (input.pixels) return input.pixels;
  return imageSize(input.bytes) ?? { width: 1, height: 1 };
}

export function createPreviewRenderer(choice: PreviewChoice, options: { kittyId?: number } = {}): PreviewRenderer | undefined {
  const cell = choice.cellPixels ?? DEFAULT_CELL_PIXELS;
  const cellAspect = cell.height / cell.width;
  switch (choice.protocol) {
    case 'off':
      return undefined;
    case 'blocks':
      return {
        protocol: 'blocks',
        needsPixels: () => true,
        render(input, box) {
          if (!input.pixels) return undefined;
          const cells = fitCells(input.pixels.width, input.pixels.height, box.cols, box.rows, 2);
          return { protocol: 'blocks', ...cells, lines: encodeBlocks(input.pixels, cells, choice.blockColors) };
        },
      };
    case 'kitty': {
      let id = options.kittyId ?? kittyImageId();
      return {
        protocol: 'kitty',
        detach() {
          id = kittyImageId();
        },
        needsPixels: (mime) => mime !== 'image/png',
        render(input, box) {
          const { width, height } = sizeOf(input);
          const cells = fitCells(width, height, box.cols, box.rows, cellAspect);
          let source: Parameters<typeof encodeKitty>[0];
          if (input.mime === 'image/png') source = { png: input.bytes };
          else if (input.pixels) source = { pixels: shrinkTo(input.pixels, cells.cols * cell.width, cells.rows * cell.height) };
          else return undefined;
          return {
            protocol: 'kitty',
            ...cells,
            draw: deleteKitty(id, { free: true }) + encodeKitty(source, cells, { id }),
            redraw: deleteKitty(id, { free: false }) + placeKitty(id, cells),
            clear: deleteKitty(id, { free: false }),
          };
        },
      };
    }
    case 'iterm':
      return {
        protocol: 'iterm',
        needsPixels: () => false,
        render(input, box) {
          const { width, height } = sizeOf(input);
          const cells = fitCells(width, height, box.cols, box.rows, cellAspect);
          const sequence = encodeIterm(input.bytes, cells);
          return { protocol: 'iterm', ...cells, draw: sequence, redraw: sequence };
        },
      };
    case 'sixel':
      return {
        protocol: 'sixel',
        needsPixels: () => true,
        render(input, box) {
          if (!input.pixels) return undefined;
          const cells = fitCells(input.pixels.width, input.pixels.height, box.cols, box.rows, cellAspect);
          const sequence = encodeSixel(input.pixels, cells, { cellPixels: cell });
          return { protocol: 'sixel', ...cells, draw: sequence, redraw: sequence };
        },
      };
  }
}

/** Sends fewer bytes to the terminal when the source is much larger than the space it gets. */
function shrinkTo(image: RgbaImage, width: number, height: number): RgbaImage {
  if (image.width <= width * 1.5 && image.height <= height * 1.5) return image;
  const scale = Math.min(width / image.width, height / image.height);
  return scaleImage(image, Math.max(1, Math.round(image.width * scale)), Math.max(1, Math.round(image.height * scale)));
}
