/** What a conversion left out or expanded, for the caller to show or log. */

export interface NodeMention {
  /** Execution id: the node id, or `outer:inner` inside subgraphs. */
  id: string;
  type: string;
  title?: string;
}

export interface DroppedInput {
  /** The node whose input was left out. */
  id: string;
  input: string;
  reason: 'missing-node' | 'missing-link' | 'source-not-sent' | 'source-muted' | 'no-matching-bypass-input' | 'no-source';
  /** The link or node that could not be followed. */
  detail: string;
}

export interface ConversionReport {
  /** Nodes left out because they are muted (mode 2 "never"). */
  muted: NodeMention[];
  /** Bypassed nodes (mode 4): left out, each input passed through to the output of the same type. */
  bypassed: NodeMention[];
  /** Notes and other editor-only nodes that carry nothing to the server (Note, MarkdownNote, unconnected primitives). */
  notes: NodeMention[];
  /** Inputs left out: links to nodes or links that no longer exist, or sources that are not sent. */
  droppedInputs: DroppedInput[];
  expanded: {
    /** Legacy group nodes, with the id the editor gives the instance after migrating it to a subgraph. */
    groupNodes: { id: string; newId: string; name: string }[];
    /** Subgraph instances, with the execution ids of the nodes they contributed. */
    subgraphs: { id: string; name: string; nodes: string[] }[];
    /** Editor-only primitive nodes whose value was written into the widgets they feed. */
    primitives: { id: string; targets: string[] }[];
    /** Reroute nodes followed to their source. */
    reroutes: string[];
    /** Link reroutes (`extra.reroutes`, link `parentId`): drawing only, nothing to follow. */
    linkReroutes: number;
  };
  /** Widgets whose value the editor computes in the browser (camera capture, 3D view …): the stored value was sent. */
  approximated: { id: string; widget: string; type: string }[];
}

export function emptyReport(): ConversionReport {
  return {
    muted: [],
    bypassed: [],
    notes: [],
    droppedInputs: [],
    expanded: { groupNodes: [], subgraphs: [], primitives: [], reroutes: [], linkReroutes: 0 },
    approximated: [],
  };
}
