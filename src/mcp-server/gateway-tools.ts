/**
 * The gateway's own MCP tools: ask a model (`chat`), `list_models`, run a whole agent turn with upstream
 * tools (`respond`), `embed` and `generate_image`. Schemas are zod, published as JSON Schema.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ModelCalls } from '../providers/media.ts';
import type { Agent } from '../agent/agent.ts';
import { chatMessagesToItems } from '../protocol/chat-messages.ts';
import { ApiError, describeFailure, isInternal } from '../protocol/errors.ts';
import type { ResponseObject } from '../protocol/events.ts';
import type { ResponsesRequest } from '../protocol/responses.ts';
import type { Router } from '../providers/router.ts';
import { allowsModel, type Grant } from '../access/grants.ts';
import type { UsageMeter } from '../access/meter.ts';

/** Set on every upstream call a `respond` run makes, so a gateway reached through itself refuses to recurse. */
export const RESPOND_DEPTH_HEADER = 'x-toolgate-respond-depth';

const Message = z.object({ role: z.enum(['system', 'developer', 'user', 'assistant']), content: z.string() });
const UsageOut = z.object({ input_tokens: z.number(), output_tokens: z.number(), total_tokens: z.number() });

const ChatIn = z.object({
  model: z.string().describe('A model name the gateway serves (see list_models).'),
  messages: z.array(Message).min(1).describe('The conversation, oldest first.'),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.int().positive().optional(),
});
const ChatOut = z.object({ text: z.string(), model: z.string(), finish: z.string(), usage: UsageOut });

const ListModelsIn = z.object({});
const ListModelsOut = z.object({
  models: z.array(z.object({ id: z.string(), provider: z.string(), api: z.string(), capabilities: z.array(z.string()) })),
});

const RespondIn = z.object({
  model: z.string().describe('A model name the gateway serves.'),
  input: z.string().describe('What to ask.'),
  instructions: z.string().optional(),
  servers: z.array(z.string()).optional().describe('Upstream MCP servers whose tools the model may use (default: all).'),
  allowed_tools: z.array(z.string()).optional().describe("Only these tool names (the servers' own names)."),
  require_approval: z.enum(['never']).optional().describe('Approvals cannot be asked for here: tools run without them.'),
  max_tool_calls: z.int().positive().optional(),
});
const RespondOut = z.object({
  response_id: z.string(),
  status: z.string(),
  output_text: z.string(),
  tool_calls: z.array(z.object({ server_label: z.string(), name: z.string(), arguments: z.string(), output: z.string().nullable(), failed: z.boolean() })),
  usage: UsageOut,
});

const EmbedIn = z.object({ model: z.string(), input: z.union([z.string(), z.array(z.string()).min(1)]), dimensions: z.int().positive().optional() });
const EmbedOut = z.object({
  model: z.string(),
  embeddings: z.array(z.array(z.number())),
  usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number() }),
});

const ImageIn = z.object({
  model: z.string(),
  prompt: z.string().min(1),
  size: z.string().optional(),
  file_name: z
    .string()
    .regex(/^[^/\\]+$/, 'a bare file name, without a path')
    .optional()
    .describe('Also write the image to the upload folder under this name.'),
});
const ImageOut = z.object({ mime_type: z.string(), revised_prompt: z.string().nullable(), saved_to: z.string().nullable() });

type Schema = Tool['inputSchema'];
const schema = (s: z.ZodType): Schema => z.toJSONSchema(s, { io: 'input' }) as Schema;
const outSchema = (s: z.ZodType): Schema => z.toJSONSchema(s) as Schema;

export const GATEWAY_TOOLS: Tool[] = [
  {
    name: 'chat',
    title: 'Ask a model',
    description: 'Send a conversation to any model the gateway serves and get its answer.',
    inputSchema: schema(ChatIn),
    outputSchema: outSchema(ChatOut),
    annotations: { readOnlyHint: true, openWorldHint: true },
  },
  {
    name: 'list_models',
    title: 'List models',
    description: 'The models this gateway serves, with their provider and what they can do.',
    inputSchema: schema(ListModelsIn),
    outputSchema: outSchema(ListModelsOut),
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  },
  {
    name: 'respond',
    title: 'Run an agent turn',
    description: "Run a whole agent turn: the model may call the upstream MCP servers' tools (without approval) until it answers.",
    inputSchema: schema(RespondIn),
    outputSchema: outSchema(RespondOut),
    annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: true },
  },
  {
    name: 'embed',
    title: 'Embed text',
    description: 'Embedding vectors for one text or several, from a model that offers embeddings.',
    inputSchema: schema(EmbedIn),
    outputSchema: outSchema(EmbedOut),
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  },
  {
    name: 'generate_image',
    title: 'Generate an image',
    description: 'Generate an image from a prompt, returned inline (and written to the upload folder when one is configured and a file name is given).',
    inputSchema: schema(ImageIn),
    outputSchema: outSchema(ImageOut),
    annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  },
];

const GATEWAY_TOOL_NAMES = new Set(GATEWAY_TOOLS.map((t) => t.name));

export function isGatewayTool(name: string): boolean {
  return GATEWAY_TOOL_NAMES.has(name);
}

export interface GatewayToolDeps {
  agent: Agent;
  calls: ModelCalls;
  router: Router;
  uploadDir: string | undefined;
}

export interface ToolCallContext {
  signal: AbortSignal;
  log: Logger;
  headers: Record<string, string | string[] | undefined>;
  /** A virtual key's grant: models and tools outside it are answered as if they did not exist. */
  grant?: Grant | undefined;
  meter?: UsageMeter | undefined;
}

function errorResult(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

function structured(text: string, data: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: data };
}

function outputText(r: ResponseObject): string {
  return r.output
    .filter((i) => i.type === 'message')
    .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
    .map((p) => (p.type === 'output_text' ? p.text : ''))
    .join('');
}

function usage(r: ResponseObject) {
  return { input_tokens: r.usage?.input_tokens ?? 0, output_tokens: r.usage?.output_tokens ?? 0, total_tokens: r.usage?.total_tokens ?? 0 };
}

/** Runs a request through the agent, collecting the final response. */
async function runToEnd(deps: GatewayToolDeps, req: ResponsesRequest, ctx: ToolCallContext, upstreamHeaders?: Record<string, string>): Promise<ResponseObject> {
  const run = { signal: ctx.signal, log: ctx.log, requestHeaders: ctx.headers, upstreamHeaders, grant: ctx.grant, meter: ctx.meter };
  return deps.agent.run(await deps.agent.prepare(req, run), run);
}

export async function callGatewayTool(deps: GatewayToolDeps, name: string, args: unknown, ctx: ToolCallContext): Promise<CallToolResult | null> {
  const parse = <S extends z.ZodType>(s: S): z.infer<S> => {
    const r = s.safeParse(args ?? {});
    if (!r.success)
      throw new ApiError(400, `Invalid arguments for ${name}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    return r.data;
  };
  try {
    switch (name) {
      case 'chat': {
        const a = parse(ChatIn);
        const r = await runToEnd(
          deps,
          { model: a.model, input: chatMessagesToItems(a.messages), temperature: a.temperature, max_output_tokens: a.max_tokens, store: false },
          ctx,
        );
        if (r.status === 'failed') return errorResult(`The model failed: ${r.error?.message}`);
        const text = outputText(r);
        return structured(text, {
          text,
          model: a.model,
          finish: r.status === 'incomplete' ? (r.incomplete_details?.reason ?? 'incomplete') : 'stop',
          usage: usage(r),
        });
      }
      case 'list_models': {
        parse(ListModelsIn);
        const { grant } = ctx;
        const models = (await deps.router.listModels(ctx.log)).filter((m) => !grant || allowsModel(grant, m.id));
        const out = models.map((m) => {
          const d = deps.router.resolve(m.id)?.candidates[0]?.deployment.provider;
          const capabilities = ['chat', 'responses', 'tools'];
          if (d?.embed) capabilities.push('embeddings');
          if (d?.generateImage) capabilities.push('images');
          return { id: m.id, provider: m.owned_by, api: d?.api ?? 'unknown', capabilities };
        });
        return structured(out.map((m) => `${m.id} (${m.provider}, ${m.api})`).join('\n') || 'No models are configured.', { models: out });
      }
      case 'respond': {
        const a = parse(RespondIn);
        const depth = Number(ctx.headers[RESPOND_DEPTH_HEADER] ?? 0);
        if (depth > 0) return errorResult('respond cannot be called from inside a respond run (the gateway reached itself through an upstream).');
        const tool = {
          type: 'mcp' as const,
          server_label: 'gateway',
          server_url: a.servers?.length ? `litellm_proxy/mcp/${a.servers.join(',')}` : 'litellm_proxy',
          require_approval: 'never' as const,
          ...(a.allowed_tools ? { allowed_tools: a.allowed_tools } : {}),
        };
        const r = await runToEnd(deps, { model: a.model, input: a.input, instructions: a.instructions, tools: [tool], max_tool_calls: a.max_tool_calls }, ctx, {
          [RESPOND_DEPTH_HEADER]: String(depth + 1),
        });
        const calls = r.output
          .filter((i) => i.type === 'mcp_call')
          .map((c) => ({ server_label: c.server_label, name: c.name, arguments: c.arguments, output: c.output ?? null, failed: c.error != null }));
        const text = outputText(r);
        const data = { response_id: r.id, status: r.status, output_text: text, tool_calls: calls, usage: usage(r) };
        if (r.status === 'failed') return { ...structured(`The run failed: ${r.error?.message}`, data), isError: true };
        return structured(text, data);
      }
      case 'embed': {
        const a = parse(EmbedIn);
        const r = await deps.calls.embed({ model: a.model, input: a.input, dimensions: a.dimensions, encoding_format: 'float' }, ctx);
        const embeddings = r.data.map((d) => d.embedding as number[]);
        return structured(`${embeddings.length} embedding(s) of ${embeddings[0]?.length ?? 0} dimensions`, { model: a.model, embeddings, usage: r.usage });
      }
      case 'generate_image': {
        const a = parse(ImageIn);
        if (a.file_name && !deps.uploadDir) return errorResult('file_name needs mcp_settings.upload_dir in the gateway config.');
        const r = await deps.calls.generateImage({ model: a.model, prompt: a.prompt, size: a.size, n: 1, response_format: 'b64_json' }, ctx);
        const img = r.data?.[0];
        if (!img?.b64_json) return errorResult('The model returned no image data.');
        const mime = `image/${r.output_format ?? 'png'}`;
        let saved: string | null = null;
        if (a.file_name && deps.uploadDir) {
          saved = join(deps.uploadDir, a.file_name);
          await writeFile(saved, Buffer.from(img.b64_json, 'base64'));
        }
        return {
          content: [
            { type: 'image', data: img.b64_json, mimeType: mime },
            { type: 'text', text: saved ? `Saved to ${saved}` : 'Image generated.' },
          ],
          structuredContent: { mime_type: mime, revised_prompt: img.revised_prompt ?? null, saved_to: saved },
        };
      }
      default:
        return null;
    }
  } catch (e) {
    // The request's or an upstream's failure is the tool's result, for the model to read; the gateway's own is a JSON-RPC error.
    const failure = describeFailure(e);
    if (isInternal(failure)) throw e;
    return errorResult(failure.message);
  }
}
