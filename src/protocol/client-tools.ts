/**
 * Tools the client runs itself, for providers that only know functions (Chat, Anthropic). Each one is
 * offered as a provider-safe function; a call to that function comes back as the item OpenAI would have
 * sent (a `function_call` with `namespace`, `custom_tool_call`, `local_shell_call`, `shell_call`,
 * `apply_patch_call`, `computer_call`); and the client's earlier calls and outputs of those kinds are
 * replayed to the provider as function calls and outputs.
 *
 *   const { functions, hosted, names } = providerTools(req.tools);  // offer `functions`; map or drop `hosted`
 *   const history = names.history();   // history.map(item) for each input item
 *   const calls = names.calls();       // null when no call needs mapping back
 *   calls.mapItem(item)                // a finished output item (non-stream)
 *   calls.mapEvent(ev, out)            // a streamed event: appends what the client sees to `out`
 *   mapDecoder(decoder, calls)         // or: a provider's stream decoder with its events mapped
 */
import type { ModelEvent, ModelOutput } from './events.ts';
import type { SseMessage, StreamDecoder } from './stream-decoder.ts';
import type { ModelInputItem, ModelTool } from './model-request.ts';
import type {
  ApplyPatchCallItem,
  ClientCallItem,
  ComputerCallItem,
  CustomTool,
  CustomToolCallItem,
  FunctionCallItem,
  FunctionCallOutputItem,
  LocalShellCallItem,
  MessageItem,
  NamespaceTool,
  OutputItem,
  ReasoningItem,
  ShellCallItem,
  ToolOutput,
} from './responses.ts';

type Kind = 'namespace' | 'custom' | 'local_shell' | 'shell' | 'apply_patch' | 'computer_use_preview' | 'computer';

/** What a provider function stands for. */
interface Target {
  kind: Kind;
  /** The client's own name: a custom tool's, or a namespace member's; the tool type for the others. */
  name: string;
  /** The namespace a function or custom tool belongs to. */
  namespace?: string | undefined;
}

/** A function as a provider is offered it. */
export interface ProviderFunction {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
  strict?: boolean;
}

export interface ProviderTools {
  /** Every function to offer, the client's own tools included, in the request's order. */
  functions: ProviderFunction[];
  /** Tools with no function form (those OpenAI hosts), for the converter to map or drop. */
  hosted: ModelTool[];
  names: ToolNames;
}

/** Items a provider that only knows functions reads. */
export type FunctionHistoryItem = MessageItem | FunctionCallItem | FunctionCallOutputItem | ReasoningItem;

// ---- which tools have a function form ----------------------------------------------------

/** A `shell` tool whose commands run in an OpenAI container rather than on the client. */
function isHostedShell(t: ModelTool): boolean {
  if (t.type !== 'shell') return false;
  const env = (t as { environment?: { type?: string } | null }).environment;
  return env != null && env.type !== 'local';
}

/** Whether a provider that only knows functions can offer the tool. */
export function hasFunctionForm(t: ModelTool): boolean {
  switch (t.type) {
    case 'function':
    case 'namespace':
    case 'custom':
    case 'local_shell':
    case 'apply_patch':
    case 'computer_use_preview':
    case 'computer':
      return true;
    case 'shell':
      return !isHostedShell(t);
    default:
      return false;
  }
}

/** The output items that are calls the client must run (they end the response). */
export function isClientCall(item: OutputItem): item is ClientCallItem {
  switch (item.type) {
    case 'function_call':
    case 'custom_tool_call':
    case 'local_shell_call':
    case 'shell_call':
    case 'apply_patch_call':
    case 'computer_call':
      return true;
    default:
      return false;
  }
}

// ---- names ------------------------------------------------------------------------------

const MAX_NAME = 64;
const FIXED_NAME: Partial<Record<Kind, string>> = {
  local_shell: 'local_shell',
  shell: 'shell',
  apply_patch: 'apply_patch',
  computer_use_preview: 'computer',
  computer: 'computer',
};

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** A name every provider accepts (`^[a-zA-Z0-9_-]{1,64}$`). */
function safeName(raw: string): string {
  const s = raw.replace(/[^a-zA-Z0-9_-]/g, '_') || 'tool';
  return s.length <= MAX_NAME ? s : `${s.slice(0, MAX_NAME - 9)}_${fnv1a(raw)}`;
}

function baseName(t: Target): string {
  const fixed = FIXED_NAME[t.kind];
  if (fixed) return fixed;
  return safeName(t.namespace ? `${t.namespace.replace(/_+$/, '')}__${t.name}` : t.name);
}

function keyOf(kind: Kind, name: string, namespace: string | undefined): string {
  return `${kind}\u0000${namespace ?? ''}\u0000${name}`;
}

/** The provider names of one request's tools, both ways. */
export class ToolNames {
  /** Provider function name -> the client tool it stands for (plain functions are not in it). */
  private readonly targets = new Map<string, Target>();
  private readonly byClient = new Map<string, string>();
  private readonly taken = new Set<string>();

  /** A plain function keeps its name. */
  reserve(name: string): void {
    this.taken.add(name);
  }

  add(t: Target): string {
    const base = baseName(t);
    let name = base;
    for (let n = 2; this.taken.has(name); n++) name = `${base.slice(0, MAX_NAME - String(n).length - 1)}_${n}`;
    this.taken.add(name);
    this.targets.set(name, t);
    this.byClient.set(keyOf(t.kind, t.name, t.namespace), name);
    return name;
  }

  /** The function a client tool is offered as (for a tool this request does not offer: its usual name). */
  of(kind: Kind, name: string = kind, namespace?: string): string {
    return this.byClient.get(keyOf(kind, name, namespace)) ?? baseName({ kind, name, namespace });
  }

  /** The function a tool choice forces, or null when it names no function this request offers. */
  forced(tc: { type: string; name?: unknown }): string | null {
    const name = typeof tc.name === 'string' ? tc.name : '';
    switch (tc.type) {
      case 'function':
        if (this.taken.has(name) && !this.targets.has(name)) return name;
        for (const [fn, t] of this.targets) if (t.kind === 'namespace' && t.name === name) return fn;
        return null;
      case 'custom':
        return this.byClient.get(keyOf('custom', name, undefined)) ?? null;
      case 'computer_use':
        return this.forced({ type: 'computer' }) ?? this.forced({ type: 'computer_use_preview' });
      default:
        return tc.type in FIXED_NAME ? (this.byClient.get(keyOf(tc.type as Kind, tc.type, undefined)) ?? null) : null;
    }
  }

  /** Maps the model's calls back; null when no offered function stands for a client tool. */
  calls(): ClientToolCalls | null {
    return this.targets.size ? new ClientToolCalls(this.targets) : null;
  }

  history(): HistoryMapper {
    return new HistoryMapper(this);
  }
}

// ---- (a) tools -> functions ----------------------------------------------------------------

const OBJECT = { type: 'object', properties: {} };

function customParameters(): Record<string, unknown> {
  return {
    type: 'object',
    properties: { input: { type: 'string', description: "The tool's input, as free-form text." } },
    required: ['input'],
    additionalProperties: false,
  };
}

function customDescription(t: CustomTool): string {
  const f = t.format;
  const grammar =
    f?.type === 'grammar' ? `\n\nThe input must match this ${(f as { syntax: string }).syntax} grammar:\n${(f as { definition: string }).definition}` : '';
  return `${t.description ?? ''}${grammar}`.trim();
}

function inNamespace(description: string | null | undefined, ns: NamespaceTool): string {
  const own = description ?? '';
  return ns.description ? `${own}${own ? '\n\n' : ''}(${ns.name}: ${ns.description})` : own;
}

const LOCAL_SHELL: ProviderFunction = {
  name: 'local_shell',
  description: "Runs a command on the user's machine and returns its output.",
  parameters: {
    type: 'object',
    properties: {
      command: { type: 'array', items: { type: 'string' }, description: 'The program and its arguments, e.g. ["bash", "-lc", "ls -la"].' },
      working_directory: { type: 'string', description: 'The directory to run it in.' },
      timeout_ms: { type: 'integer', description: 'Milliseconds before it is stopped.' },
      env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Environment variables to set.' },
      user: { type: 'string', description: 'The user to run it as.' },
    },
    required: ['command'],
  },
};

const SHELL: ProviderFunction = {
  name: 'shell',
  description: "Runs shell commands on the user's machine and returns their output.",
  parameters: {
    type: 'object',
    properties: {
      commands: { type: 'array', items: { type: 'string' }, description: 'Shell commands, run in order.' },
      timeout_ms: { type: 'integer', description: 'Milliseconds before they are stopped.' },
      max_output_length: { type: 'integer', description: 'Most characters of output to return.' },
    },
    required: ['commands'],
  },
};

const APPLY_PATCH: ProviderFunction = {
  name: 'apply_patch',
  description: "Creates, updates or deletes one file in the user's workspace.",
  parameters: {
    type: 'object',
    properties: {
      type: { type: 'string', enum: ['create_file', 'update_file', 'delete_file'] },
      path: { type: 'string', description: 'The file, relative to the workspace root.' },
      diff: { type: 'string', description: 'For create_file and update_file: the change as a V4A diff (for a new file, every line starts with +).' },
    },
    required: ['type', 'path'],
  },
};

const COMPUTER_ACTION = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: ['click', 'double_click', 'drag', 'keypress', 'move', 'screenshot', 'scroll', 'type', 'wait'] },
    x: { type: 'integer' },
    y: { type: 'integer' },
    button: { type: 'string', enum: ['left', 'right', 'wheel', 'back', 'forward'] },
    keys: { type: 'array', items: { type: 'string' } },
    path: { type: 'array', items: { type: 'object', properties: { x: { type: 'integer' }, y: { type: 'integer' } }, required: ['x', 'y'] } },
    scroll_x: { type: 'integer' },
    scroll_y: { type: 'integer' },
    text: { type: 'string' },
  },
  required: ['type'],
};

function computerPreview(t: { display_width?: unknown; display_height?: unknown; environment?: unknown }): ProviderFunction {
  return {
    name: 'computer',
    description: `Controls a ${String(t.environment ?? '')} computer with a ${String(t.display_width)}x${String(t.display_height)} display, one action per call; a screenshot shows the screen.`,
    parameters: { type: 'object', properties: { action: COMPUTER_ACTION }, required: ['action'] },
  };
}

const COMPUTER: ProviderFunction = {
  name: 'computer',
  description: "Controls the user's computer with a batch of actions per call; a screenshot shows the screen.",
  parameters: { type: 'object', properties: { actions: { type: 'array', items: COMPUTER_ACTION } }, required: ['actions'] },
};

function named(f: ProviderFunction, name: string): ProviderFunction {
  return name === f.name ? f : { ...f, name };
}

function withDescription(name: string, description: string, parameters: Record<string, unknown>, strict?: boolean | null): ProviderFunction {
  const f: ProviderFunction = { name, parameters };
  if (description) f.description = description;
  if (strict != null) f.strict = strict;
  return f;
}

/** The functions a provider is offered for the request's tools, and the names that map them back. */
export function providerTools(tools: readonly ModelTool[]): ProviderTools {
  const names = new ToolNames();
  for (const t of tools) if (t.type === 'function') names.reserve(t.name);
  const functions: ProviderFunction[] = [];
  const hosted: ModelTool[] = [];
  for (const t of tools) {
    switch (t.type) {
      case 'function':
        functions.push(withDescription(t.name, t.description ?? '', t.parameters ?? OBJECT, t.strict));
        break;
      case 'namespace':
        for (const f of t.tools) {
          if (f.type === 'custom') {
            const name = names.add({ kind: 'custom', name: f.name, namespace: t.name });
            functions.push(withDescription(name, inNamespace(customDescription(f), t), customParameters()));
          } else {
            const name = names.add({ kind: 'namespace', name: f.name, namespace: t.name });
            functions.push(withDescription(name, inNamespace(f.description, t), f.parameters ?? OBJECT, f.strict));
          }
        }
        break;
      case 'custom':
        functions.push(withDescription(names.add({ kind: 'custom', name: t.name }), customDescription(t), customParameters()));
        break;
      case 'local_shell':
        functions.push(named(LOCAL_SHELL, names.add({ kind: 'local_shell', name: 'local_shell' })));
        break;
      case 'shell':
        if (isHostedShell(t)) hosted.push(t);
        else functions.push(named(SHELL, names.add({ kind: 'shell', name: 'shell' })));
        break;
      case 'apply_patch':
        functions.push(named(APPLY_PATCH, names.add({ kind: 'apply_patch', name: 'apply_patch' })));
        break;
      case 'computer_use_preview':
        functions.push(named(computerPreview(t), names.add({ kind: 'computer_use_preview', name: 'computer_use_preview' })));
        break;
      case 'computer':
        functions.push(named(COMPUTER, names.add({ kind: 'computer', name: 'computer' })));
        break;
      default:
        hosted.push(t);
    }
  }
  return { functions, hosted, names };
}

// ---- (b) history -> function calls and outputs -------------------------------------------------

function json(v: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const k in v) if (v[k] != null) out[k] = v[k];
  return JSON.stringify(out);
}

function shellOutputText(output: { stdout: string; stderr: string; outcome: { type: string; exit_code?: number } }[]): string {
  return output
    .map((o) => {
      const parts = [o.outcome.type === 'timeout' ? 'Timed out.' : `Exit code: ${o.outcome.exit_code}`];
      if (o.stdout) parts.push(`stdout:\n${o.stdout}`);
      if (o.stderr) parts.push(`stderr:\n${o.stderr}`);
      return parts.join('\n');
    })
    .join('\n\n');
}

/** Turns the client's calls and outputs of its own tools into function calls and outputs, item by item. */
export class HistoryMapper {
  private readonly names: ToolNames;
  /** A local_shell_call_output may name its call by the call's item id: item id -> call_id. */
  private readonly localShellIds = new Map<string, string>();

  constructor(names: ToolNames) {
    this.names = names;
  }

  /** The item as a provider that only knows functions reads it; null for items it cannot read (hosted tools'). */
  map(item: ModelInputItem): FunctionHistoryItem | null {
    const n = this.names;
    switch (item.type) {
      case 'message':
      case 'function_call_output':
      case 'reasoning':
        return item;
      case 'function_call':
        return item.namespace ? call(item.call_id, n.of('namespace', item.name, item.namespace), item.arguments) : item;
      case 'custom_tool_call':
        return call(item.call_id, n.of('custom', item.name, item.namespace), JSON.stringify({ input: item.input }));
      case 'local_shell_call': {
        if (item.id) this.localShellIds.set(item.id, item.call_id);
        const { command, working_directory, timeout_ms, env, user } = item.action;
        const envSet = env && Object.keys(env).length ? env : undefined;
        return call(item.call_id, n.of('local_shell'), json({ command, working_directory, timeout_ms, env: envSet, user }));
      }
      case 'shell_call':
        return call(
          item.call_id,
          n.of('shell'),
          json({ commands: item.action.commands, timeout_ms: item.action.timeout_ms, max_output_length: item.action.max_output_length }),
        );
      case 'apply_patch_call': {
        const op = item.operation as { type: string; path: string; diff?: string };
        return call(item.call_id, n.of('apply_patch'), json({ type: op.type, path: op.path, diff: op.diff }));
      }
      case 'computer_call':
        // `computer` batches actions; `computer_use_preview` takes one
        return item.actions
          ? call(item.call_id, n.of('computer'), JSON.stringify({ actions: item.actions }))
          : call(item.call_id, n.of('computer_use_preview'), JSON.stringify({ action: item.action ?? {} }));
      case 'custom_tool_call_output':
        return output(item.call_id, item.output);
      case 'local_shell_call_output': {
        const ref = (item.call_id || item.id)!;
        return output(this.localShellIds.get(ref) ?? ref, item.output);
      }
      case 'shell_call_output':
        return output(item.call_id, shellOutputText(item.output));
      case 'apply_patch_call_output':
        return output(item.call_id, item.status === 'failed' ? `Failed${item.output ? `: ${item.output}` : '.'}` : item.output || 'Done.');
      case 'computer_call_output': {
        const { image_url, file_id } = item.output;
        if (!image_url && !file_id) return output(item.call_id, 'No screenshot.');
        return output(item.call_id, [image_url ? { type: 'input_image', image_url, detail: 'auto' } : { type: 'input_image', file_id, detail: 'auto' }]);
      }
      default:
        return null;
    }
  }
}

function call(call_id: string, name: string, args: string): FunctionCallItem {
  return { type: 'function_call', call_id, name, arguments: args };
}

function output(call_id: string, out: ToolOutput): FunctionCallOutputItem {
  return { type: 'function_call_output', call_id, output: out };
}

// ---- (c) the model's calls -> the client's items ----------------------------------------------

const ID_PREFIX: Partial<Record<Kind, string>> = {
  custom: 'ctc',
  local_shell: 'lsh',
  shell: 'sh',
  apply_patch: 'apc',
  computer_use_preview: 'cu',
  computer: 'cu',
};

/** The call's item id with the prefix OpenAI gives the item type (`fc_x` -> `ctc_x`). */
function idFor(kind: Kind, id: string | null | undefined): string | null | undefined {
  const prefix = ID_PREFIX[kind];
  if (!prefix || !id) return id;
  return `${prefix}_${id.slice(id.indexOf('_') + 1)}`;
}

function parseArgs(args: string): Record<string, unknown> {
  try {
    const v = JSON.parse(args);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

/** A custom tool's text input from the function arguments the model wrote (the raw text when they are not JSON). */
function customInput(args: string): string {
  const input = parseArgs(args).input;
  return typeof input === 'string' ? input : args;
}

/** The item OpenAI would have sent for a call of the function that stands for `t`. */
function clientCall(fc: FunctionCallItem, t: Target): ClientCallItem {
  const status = fc.status ?? 'completed';
  const id = idFor(t.kind, fc.id);
  switch (t.kind) {
    case 'namespace':
      return { ...fc, name: t.name, namespace: t.namespace! };
    case 'custom': {
      const item: CustomToolCallItem = { id, type: 'custom_tool_call', call_id: fc.call_id, name: t.name, input: customInput(fc.arguments) };
      if (t.namespace) item.namespace = t.namespace;
      return item;
    }
    case 'local_shell': {
      const a = parseArgs(fc.arguments);
      // A model that writes the command as one string means a shell line.
      const command = typeof a.command === 'string' ? ['bash', '-lc', a.command] : strings(a.command);
      const env = a.env && typeof a.env === 'object' ? (a.env as Record<string, string>) : {};
      return {
        id,
        type: 'local_shell_call',
        status,
        call_id: fc.call_id,
        action: { type: 'exec', command, env, timeout_ms: int(a.timeout_ms), user: str(a.user), working_directory: str(a.working_directory) },
      } satisfies LocalShellCallItem;
    }
    case 'shell': {
      const a = parseArgs(fc.arguments);
      return {
        id,
        type: 'shell_call',
        status,
        call_id: fc.call_id,
        action: { commands: strings(a.commands), timeout_ms: int(a.timeout_ms), max_output_length: int(a.max_output_length) },
        environment: { type: 'local' },
      } satisfies ShellCallItem;
    }
    case 'apply_patch': {
      const a = parseArgs(fc.arguments);
      const path = str(a.path) ?? '';
      const diff = str(a.diff) ?? '';
      const operation: ApplyPatchCallItem['operation'] =
        a.type === 'delete_file' ? { type: 'delete_file', path } : { type: a.type === 'create_file' ? 'create_file' : 'update_file', path, diff };
      return { id, type: 'apply_patch_call', status, call_id: fc.call_id, operation } satisfies ApplyPatchCallItem;
    }
    case 'computer_use_preview':
    case 'computer': {
      const a = parseArgs(fc.arguments);
      const item: ComputerCallItem = { id, type: 'computer_call', status, call_id: fc.call_id, pending_safety_checks: [] };
      if (t.kind === 'computer') item.actions = Array.isArray(a.actions) ? a.actions : [];
      else item.action = a.action && typeof a.action === 'object' ? (a.action as { type: string }) : { type: 'screenshot' };
      return item;
    }
  }
}

/**
 * Maps one model call's output back to the client's tools. Stateful for a stream: make one per call
 * (`ToolNames.calls()`). Every event that is not about a call of a client tool passes through untouched.
 */
export class ClientToolCalls {
  private readonly targets: ReadonlyMap<string, Target>;
  /** Streamed calls of client tools, by the function call's item id. */
  private readonly open = new Map<string, Target>();

  constructor(targets: ReadonlyMap<string, Target>) {
    this.targets = targets;
  }

  /** A finished output item as the client sees it. */
  mapItem(item: OutputItem): OutputItem {
    if (item.type !== 'function_call') return item;
    const t = this.targets.get(item.name);
    return t ? clientCall(item, t) : item;
  }

  /**
   * Appends to `out` what the client sees of `ev` (`model.end` passes). A namespace call streams as the function call it is;
   * a custom tool's call is added at once and its input sent whole when the arguments are complete; the
   * other tools' calls (which have no argument events) are added and done together once complete.
   */
  mapEvent(ev: ModelEvent, out: ModelEvent[]): void {
    switch (ev.type) {
      case 'response.output_item.added': {
        const t = ev.item.type === 'function_call' ? this.targets.get(ev.item.name) : undefined;
        if (!t) break;
        this.open.set(ev.item.id!, t);
        if (t.kind === 'namespace' || t.kind === 'custom') out.push({ ...ev, item: clientCall(ev.item as FunctionCallItem, t) });
        return;
      }
      case 'response.function_call_arguments.delta': {
        const t = this.open.get(ev.item_id);
        if (!t || t.kind === 'namespace') break;
        return;
      }
      case 'response.function_call_arguments.done': {
        const t = this.open.get(ev.item_id);
        if (!t) break;
        if (t.kind === 'namespace') out.push({ ...ev, name: t.name });
        else if (t.kind === 'custom') {
          const input = customInput(ev.arguments);
          const scope = { sequence_number: ev.sequence_number, output_index: ev.output_index, item_id: idFor('custom', ev.item_id)! };
          if (input) out.push({ type: 'response.custom_tool_call_input.delta', ...scope, delta: input });
          out.push({ type: 'response.custom_tool_call_input.done', ...scope, input });
        }
        return;
      }
      case 'response.output_item.done': {
        const id = ev.item.id;
        const t = id ? this.open.get(id) : undefined;
        if (!t) break;
        this.open.delete(id!);
        const item = clientCall(ev.item as FunctionCallItem, t);
        if (t.kind !== 'namespace' && t.kind !== 'custom')
          out.push({
            type: 'response.output_item.added',
            sequence_number: ev.sequence_number,
            output_index: ev.output_index,
            item: { ...item, status: 'in_progress' } as OutputItem,
          });
        out.push({ ...ev, item });
        return;
      }
    }
    out.push(ev);
  }
}

/** A stream decoder whose events come out mapped by `calls`: the provider's decoder, unchanged, inside (itself when there is nothing to map). */
export function mapDecoder(inner: StreamDecoder, calls: ClientToolCalls | null): StreamDecoder {
  if (!calls) return inner;
  const batch: ModelEvent[] = [];
  const flush = (out: ModelEvent[]) => {
    for (const ev of batch) calls.mapEvent(ev, out);
    batch.length = 0;
  };
  return {
    event(msg: SseMessage, out: ModelEvent[]) {
      inner.event(msg, batch);
      flush(out);
    },
    end(out: ModelEvent[]) {
      inner.end(batch);
      flush(out);
    },
  };
}

/** A whole answer (not streamed) as the client sees it. */
export function mapOutput(out: ModelOutput, calls: ClientToolCalls | null): ModelOutput {
  if (!calls) return out;
  return { items: out.items.map((item) => calls.mapItem(item)), end: out.end };
}
