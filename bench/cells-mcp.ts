/**
 * MCP cells: tools/call through the gateway's /mcp against the same call made straight to the
 * upstream; one tool round of /v1/responses against its parts; tools/list over ten upstreams.
 */
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { loadHttp } from './http-load.ts';
import { measure, type Call, type Sample, type Timing, type Watched } from './measure.ts';
import type { PairedCell } from './pairs.ts';
import { gatewayConfig, startGateway } from './processes.ts';

export async function connectMcp(url: string): Promise<Client> {
  const client = new Client({ name: 'toolgate-bench', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/** An SDK 2.x client pinned to MCP 2026-07-28: no session, each request on its own. */
export async function connectModernMcp(url: string): Promise<ModernClient> {
  const client = new ModernClient({ name: 'toolgate-bench', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new ModernTransport(new URL(url)));
  return client;
}

type ToolResult = { isError?: boolean; content?: unknown };
type ToolCaller = { callTool(req: { name: string; arguments: Record<string, unknown> }): Promise<unknown> };

function echoCall(client: ToolCaller, toolName: string): Call<ToolResult> {
  return {
    send: () => client.callTool({ name: toolName, arguments: { text: 'bench' } }) as Promise<ToolResult>,
    check: (result) => {
      const text = (result.content as { text?: string }[] | undefined)?.[0]?.text;
      if (result.isError || text !== 'bench') throw new Error(`echo answered ${JSON.stringify(result).slice(0, 140)}`);
    },
  };
}

/**
 * tools/call `echo` at 1 connection: straight to the fixture, and as `fixture-echo` through /mcp. `mcp.call`
 * asks the gateway with a 2025 session; `mcp.call.2026` with a 2026-07-28 client (the direct side stays a 2025
 * session: the fixture is 2025-era).
 */
export function toolsCallCell(
  cell: { id: 'mcp.call' | 'mcp.call.2026'; label: string },
  direct: Client,
  viaGateway: ToolCaller,
  timing: Timing,
  watched: Watched[],
): PairedCell {
  return {
    ...cell,
    connections: 1,
    measureDirect: () => measure(echoCall(direct, 'echo'), 1, timing, watched),
    measureGateway: () => measure(echoCall(viaGateway, 'fixture-echo'), 1, timing, watched),
  };
}

export interface ToolRoundResult {
  modelCall: Sample;
  toolCall: Sample;
  round: Sample;
  /** Two model calls and one tool call made directly, p50s summed. */
  partsP50: number;
  addedP50: number;
}

function checkRound(body: string): void {
  const response = JSON.parse(body);
  const kinds = (response.output ?? []).map((item: { type: string }) => item.type);
  if (response.status !== 'completed' || !kinds.includes('mcp_call') || !kinds.includes('message'))
    throw new Error(`round ended ${response.status} with ${kinds.join(',')}: ${body.slice(0, 120)}`);
}

function checkCompleted(body: string): void {
  const status = JSON.parse(body).status;
  if (status !== 'completed') throw new Error(`status ${status}`);
}

/**
 * One MCP tool round through the gateway (model call -> tools/call -> model call, run by the gateway)
 * at 1 connection, against its parts made directly: two short model calls to the mock and one tools/call.
 */
export async function measureToolRound(mockUrl: string, gatewayUrl: string, direct: Client, timing: Timing, watched: Watched[]): Promise<ToolRoundResult> {
  const modelCall = await loadHttp({ url: `${mockUrl}/v1/responses`, body: { model: 'bench', input: 'x' }, check: checkCompleted }, 1, timing, watched);
  const toolCall = await measure(echoCall(direct, 'echo'), 1, timing, watched);
  const tools = [{ type: 'mcp', server_label: 'fx', server_url: 'litellm_proxy/mcp/fixture', require_approval: 'never' }];
  const round = await loadHttp(
    { url: `${gatewayUrl}/v1/responses`, body: { model: 'r/call:fixture-echo', input: 'x', tools }, check: checkRound },
    1,
    timing,
    watched,
  );
  const partsP50 = 2 * modelCall.p50 + toolCall.p50;
  return { modelCall, toolCall, round, partsP50, addedP50: round.p50 - partsP50 };
}

export interface ToolsListResult {
  upstreams: number;
  tools: number;
  /** The first full listing of each new gateway, ms. */
  coldMs: number[];
  /** Full listings from the gateway's cache. */
  cached: Sample;
}

async function listAllTools(client: Client): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    count += page.tools.length;
    cursor = page.nextCursor;
  } while (cursor);
  return count;
}

/** tools/list (all pages) on /mcp with ten upstreams (the fixture ten times): cold in new gateways, then cached. */
export async function measureToolsList(mockUrl: string, mcpUrl: string, timing: Timing, coldStarts: number): Promise<ToolsListResult> {
  const upstreams = 10;
  const mcpServers = Object.fromEntries(Array.from({ length: upstreams }, (_, i) => [`fx${i}`, mcpUrl]));
  const config = gatewayConfig({ mockUrl, mcpServers, extra: ['mcp_settings: {tools_cache_seconds: 3600}'] });
  const coldMs: number[] = [];
  for (let i = 0; ; i++) {
    const gateway = await startGateway(config);
    try {
      const client = await connectMcp(`${gateway.url}/mcp`);
      const started = performance.now();
      const tools = await listAllTools(client);
      coldMs.push(performance.now() - started);
      if (i + 1 === coldStarts) {
        const call: Call<number> = {
          send: () => listAllTools(client),
          check: (n) => {
            if (n !== tools) throw new Error(`${n} tools, expected ${tools}`);
          },
        };
        const cached = await measure(call, 1, timing, [{ name: 'gateway', pid: gateway.pid }]);
        await client.close();
        return { upstreams, tools, coldMs, cached };
      }
      await client.close();
    } finally {
      await gateway.stop();
    }
  }
}
