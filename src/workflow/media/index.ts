/** Reading the metadata ComfyUI embeds in the images, videos and audio files it saves. */
export { bufferSource, fileSource, type ByteSource } from './bytes.ts';
export { detectMedia, HEAD_BYTES, type MediaReader } from './detect.ts';
export type { EmbeddedText, MediaKind, MediaMetadata } from './problems.ts';
export { workflowFromMedia } from './workflow.ts';
