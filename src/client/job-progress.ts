/**
 * What the frames of one prompt say of its run: the nodes cached and finished, the node running,
 * the overall count, the outputs announced, the images that came only over the socket, and how
 * the run went (success, error, interruption); told as the job's events as they come.
 *
 * It moves no phase: the job reads each frame for that first (a listener of `started` hears it
 * before the frame's own events), then hands it here.
 */
import type { BinaryFrame } from './binary.ts';
import type { JobEvents, JobResult } from './job-types.ts';
import type { ObservedRun } from './job-verdict.ts';
import type { MessageData, ServerMessage } from './messages.ts';
import { nodeRef } from './node-names.ts';
import { mergeOutputs, outputsOfExecuted } from './outputs.ts';
import type { RelayingEmitter } from './relay.ts';
import type { ApiWorkflow, NodeRef, OutputRef } from './types.ts';

const WEBSOCKET_IMAGE_NODES = new Set(['SaveImageWebsocket']);

/** The job whose run is followed: its workflow (names and count the nodes) and its events. */
export interface ProgressOwner {
  readonly workflow: ApiWorkflow;
  emit: RelayingEmitter<JobEvents>['emit'];
}

export class JobProgress {
  /** Nodes the server answered from its cache. */
  readonly cached = new Set<string>();
  /** Files announced by `executed` events: saved even when the run fails. */
  readonly seenOutputs: OutputRef[] = [];
  /** Images that arrived only over the socket (SaveImageWebsocket). */
  readonly socketImages: JobResult['socketImages'] = [];

  private readonly job: ProgressOwner;
  private readonly finishedNodes = new Set<string>();
  private currentNode: NodeRef | undefined;
  private lastOverall: { done: number; total: number } | undefined;
  private succeeded = false;
  private interruptedAt: NodeRef | undefined | null = null;
  private lastError: MessageData<'execution_error'> | undefined;

  constructor(job: ProgressOwner) {
    this.job = job;
  }

  ref(nodeId: string, displayNodeId?: string | null, classType?: string | null): NodeRef {
    return nodeRef(this.job.workflow, nodeId, displayNodeId, classType);
  }

  /** What the run was seen to do, for the verdict on it. */
  observed(promptId: string, cancelRequested: boolean): ObservedRun {
    return {
      promptId,
      interruptedAt: this.interruptedAt,
      lastError: this.lastError,
      succeeded: this.succeeded,
      cancelRequested,
      seenOutputs: this.seenOutputs,
      ref: (nodeId, classType) => this.ref(nodeId, undefined, classType),
    };
  }

  /** A message of the prompt's (the end of the run, `executing {node: null}`, is the job's). */
  onMessage(message: ServerMessage): void {
    switch (message.type) {
      case 'execution_cached':
        for (const id of message.data.nodes) this.cached.add(id);
        if (message.data.nodes.length > 0) this.job.emit('cached', { nodes: message.data.nodes.map((id) => this.ref(id)) });
        this.emitOverall();
        return;
      case 'executing': {
        const { node, display_node: display } = message.data;
        if (node === null) return;
        if (this.currentNode) this.finishedNodes.add(this.currentNode.nodeId);
        this.currentNode = this.ref(node, display);
        // The count first, so that a listener of `node` sees how many nodes came before it.
        this.emitOverall();
        this.job.emit('node', this.currentNode);
        return;
      }
      case 'progress': {
        const { node, value, max } = message.data;
        const ref = node ? (this.currentNode?.nodeId === node ? this.currentNode : this.ref(node)) : this.currentNode;
        if (ref) this.job.emit('progress', { node: ref, value, max });
        return;
      }
      case 'progress_state': {
        let changed = false;
        for (const [id, state] of Object.entries(message.data.nodes)) {
          if (state.state === 'finished' && !this.finishedNodes.has(id)) {
            this.finishedNodes.add(id);
            changed = true;
          }
        }
        if (changed) this.emitOverall();
        return;
      }
      case 'executed': {
        const { node, display_node: display, output } = message.data;
        if (output) {
          mergeOutputs(this.seenOutputs, outputsOfExecuted(node, output));
          this.job.emit('executed', { node: this.ref(node, display), output });
        }
        return;
      }
      case 'execution_success':
        this.succeeded = true;
        return;
      case 'execution_error':
        this.lastError = message.data;
        return;
      case 'execution_interrupted': {
        const { node_id: nodeId, node_type: nodeType } = message.data;
        this.interruptedAt = nodeId ? this.ref(nodeId, undefined, nodeType) : undefined;
        return;
      }
      default:
        return;
    }
  }

  /** A binary frame of the prompt's, while it runs. */
  onBinary(frame: BinaryFrame): void {
    if (frame.kind === 'preview') {
      const meta = frame.metadata;
      const node = meta?.node_id ? this.ref(meta.node_id, meta.display_node_id) : this.currentNode;
      if (node?.classType && WEBSOCKET_IMAGE_NODES.has(node.classType)) {
        this.socketImages.push({ node, mime: frame.mime, image: Buffer.from(frame.image) });
        return;
      }
      this.job.emit('preview', { mime: frame.mime, image: frame.image, node });
    } else if (frame.kind === 'text') {
      // Text frames carry no prompt id and are broadcast: keep those of our own nodes only.
      if (!this.job.workflow[frame.nodeId.split('.')[0] ?? '']) return;
      this.job.emit('text', { node: this.ref(frame.nodeId), text: frame.text });
    }
  }

  private emitOverall(): void {
    const graph = this.job.workflow;
    let total = 0;
    for (const _ in graph) total += 1;
    let done = 0;
    for (const id of this.cached) if (graph[id]) done += 1;
    for (const id of this.finishedNodes) if (graph[id] && !this.cached.has(id)) done += 1;
    done = Math.min(done, total);
    // A node's end is told twice (progress_state, then the next `executing`): one event per count.
    if (this.lastOverall?.done === done && this.lastOverall.total === total) return;
    this.lastOverall = { done, total };
    this.job.emit('overall', { done, total });
  }
}
