/** Types shared by the client layer and its users. */
import type { OutputItem } from './messages.ts';

/** The workflow layer defines the API format; the client submits it as it is. */
export type { ApiNode, ApiWorkflow } from '../workflow/types.ts';

/** One downloadable output of a finished prompt. */
export interface OutputRef {
  nodeId: string;
  /** The key it was listed under in the node's output: images, gifs, video, audio, … */
  key: string;
  item: OutputItem;
}

/** A non-file output such as PreviewAny's `text`. */
export interface TextOutput {
  nodeId: string;
  key: string;
  values: string[];
}

export interface NodeRef {
  nodeId: string;
  displayNodeId: string;
  title: string;
  classType: string | undefined;
}
