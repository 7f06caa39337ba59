/**
 * What the editor builds for a node class from the server's /object_info entry: its input sockets,
 * its widgets (in the order their values are stored in `widgets_values`) and its outputs.
 */
import { isObject } from './detect.ts';

export type ObjectInfo = Record<string, unknown>;

export interface WidgetSpec {
  name: string;
  /** The input type: INT, FLOAT, STRING, BOOLEAN, COMBO, or another widget type. */
  type: string;
  /** Occupies an entry of `widgets_values`. */
  stored: boolean;
  /** Sent to the server in the prompt. */
  sent: boolean;
  defaultValue: unknown;
  dynamicPrompts: boolean;
}

export interface InputSocket {
  name: string;
  type: string;
  /** The widget this socket feeds, when the input is a widget that can also take a link. */
  widget?: string;
}

export interface NodeLayout {
  classType: string;
  displayName: string;
  /** Sockets in the order the editor lists them: link-only inputs first, then widget inputs. */
  inputs: InputSocket[];
  widgets: WidgetSpec[];
  outputs: string[];
  /** For migrating values stored by editors that kept a slot for forceInput inputs. */
  forceInputSlots: boolean[];
}

const VALUE_WIDGET_TYPES = new Set(['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO']);
/** Input types the editor draws as a widget of its own (their value is stored and sent as is). */
const CUSTOM_WIDGET_TYPES = new Set(['WEBCAM', 'AUDIO_RECORD', 'LOAD_3D', 'LOAD_3D_ANIMATION', 'MARKDOWN', 'COLOR', 'CURVE', 'IMAGECOMPARE']);
const UPLOAD_OPTIONS = ['image_upload', 'audio_upload', 'video_upload', 'file_upload', 'animated_image_upload'];

interface InputEntry {
  name: string;
  type: string;
  options: Record<string, unknown>;
  comboValues: unknown[] | undefined;
  required: boolean;
}

export class NodeDefinitions {
  readonly #info: ObjectInfo;
  readonly #layouts = new Map<string, NodeLayout | null>();

  constructor(objectInfo: ObjectInfo) {
    this.#info = objectInfo;
  }

  has(classType: string): boolean {
    return Object.hasOwn(this.#info, classType) && isObject(this.#info[classType]);
  }

  /** The class's entry as the server sent it. */
  entry(classType: string): Record<string, unknown> | undefined {
    const def = this.has(classType) ? this.#info[classType] : undefined;
    return isObject(def) ? def : undefined;
  }

  layout(classType: string): NodeLayout | undefined {
    let layout = this.#layouts.get(classType);
    if (layout === undefined) {
      const def = this.has(classType) ? this.#info[classType] : undefined;
      layout = isObject(def) ? buildLayout(classType, def) : null;
      this.#layouts.set(classType, layout);
    }
    return layout ?? undefined;
  }
}

export function buildLayout(classType: string, def: Record<string, unknown>): NodeLayout {
  const entries = inputEntries(def);
  const sockets: InputSocket[] = [];
  const widgetInputs: InputSocket[] = [];
  const widgets: WidgetSpec[] = [];
  const uploads: WidgetSpec[] = [];
  const forceInputSlots: boolean[] = [];

  for (const entry of entries) {
    const forceInput = entry.options.forceInput === true;
    const isWidget = !forceInput && (VALUE_WIDGET_TYPES.has(entry.type) || CUSTOM_WIDGET_TYPES.has(entry.type));
    const control = entry.options.control_after_generate;
    if (isWidget || forceInput) forceInputSlots.push(forceInput, ...(control ? [false] : []));
    // The editor gives INT inputs named seed or noise_seed a control widget even when the server does not ask for one.
    const hasControl = entry.type === 'INT' ? (control ?? ['seed', 'noise_seed'].includes(entry.name)) : control;
    if (!isWidget) {
      sockets.push({ name: entry.name, type: entry.type });
      continue;
    }
    widgetInputs.push({ name: entry.name, type: entry.type, widget: entry.name });
    widgets.push({
      name: entry.name,
      type: entry.type,
      stored: true,
      sent: true,
      defaultValue: defaultValue(entry),
      dynamicPrompts: entry.type === 'STRING' && entry.options.dynamicPrompts === true,
    });
    if (hasControl) {
      widgets.push(unsent('control_after_generate', typeof control === 'string' ? control : entry.type === 'FLOAT' ? 'fixed' : 'randomize'));
      // A combo's control also stores the filter applied to its list.
      if (entry.type === 'COMBO') widgets.push(unsent('control_filter_list', ''));
    }
    if (entry.type === 'COMBO' && isObject(entry.options.remote) && entry.options.remote.refresh_button === true) {
      widgets.push(unsent('Auto-refresh after generation', false));
      widgets.push({ name: 'refresh', type: 'BUTTON', stored: true, sent: true, defaultValue: 'refresh', dynamicPrompts: false });
    }
    if (entry.type === 'AUDIO_RECORD') widgets.push(unsent('audio', ''));
    if (UPLOAD_OPTIONS.some((option) => entry.options[option] === true)) {
      uploads.push(unsent('upload', undefined));
    }
  }
  return {
    classType,
    displayName: typeof def.display_name === 'string' && def.display_name !== '' ? def.display_name : classType,
    inputs: [...sockets, ...widgetInputs],
    widgets: [...widgets, ...uploads],
    outputs: Array.isArray(def.output) ? def.output.map((type) => (Array.isArray(type) ? 'COMBO' : String(type))) : [],
    forceInputSlots,
  };
}

/** Input types the editor draws as a widget. */
export function isWidgetType(type: string): boolean {
  return VALUE_WIDGET_TYPES.has(type) || CUSTOM_WIDGET_TYPES.has(type);
}

/** A widget of the editor's own (control, upload button …): its value is stored in the workflow but not sent. */
function unsent(name: string, defaultValue: unknown): WidgetSpec {
  return { name, type: 'BUTTON', stored: true, sent: false, defaultValue, dynamicPrompts: false };
}

function inputEntries(def: Record<string, unknown>): InputEntry[] {
  const input = isObject(def.input) ? def.input : {};
  const entries: InputEntry[] = [];
  for (const section of ['required', 'optional'] as const) {
    const specs = input[section];
    if (!isObject(specs)) continue;
    for (const [name, spec] of Object.entries(specs)) {
      if (!Array.isArray(spec) || spec.length === 0) continue;
      const [head, maybeOptions] = spec as [unknown, unknown];
      const options = isObject(maybeOptions) ? maybeOptions : {};
      if (Array.isArray(head)) {
        entries.push({ name, type: 'COMBO', options, comboValues: head, required: section === 'required' });
      } else {
        const type = String(head);
        const comboValues = type === 'COMBO' && Array.isArray(options.options) ? options.options : undefined;
        entries.push({ name, type, options, comboValues, required: section === 'required' });
      }
    }
  }
  return entries;
}

function defaultValue(entry: InputEntry): unknown {
  const { options } = entry;
  switch (entry.type) {
    case 'COMBO': {
      const values = entry.comboValues ?? [];
      if (options.default !== undefined && values.includes(options.default)) return options.default;
      return values.length > 0 ? values[0] : null;
    }
    case 'INT':
    case 'FLOAT':
      return typeof options.default === 'number' ? options.default : 0;
    case 'BOOLEAN':
      return typeof options.default === 'boolean' ? options.default : false;
    case 'STRING':
      return typeof options.default === 'string' ? options.default : '';
    default:
      return options.default ?? '';
  }
}
