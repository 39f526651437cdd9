/**
 * Unit tests of what the gateway accepts and what reaches each upstream: the request schemas against
 * openai-node's own types (every field, item and tool type they list parses; unknown fields are kept),
 * the table of dropped parameters, and the request converters for client tools, replayed history and
 * unknown fields. The captured requests of Codex CLI are in fixtures/codex-requests.json.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { ChatCompletionCreateParamsBase, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { ResponseCreateParamsBase, ResponseCreateParamsNonStreaming, ResponseInputItem, Tool as SdkTool } from 'openai/resources/responses/responses';
import { ChatRequest } from '../src/protocol/chat.ts';
import { modelRequestToAnthropic } from '../src/providers/anthropic/request.ts';
import { chatToResponses } from '../src/http/routes/chat-request.ts';
import { modelRequestToChat } from '../src/providers/openai-chat/request.ts';
import { modelRequestToResponses } from '../src/providers/openai-responses/request.ts';
import { droppedForApis, droppedLabel, droppedParams, unsupportedParamError } from '../src/protocol/dropped-params.ts';
import { modelParams, type ModelInputItem, type ModelRequest, type ModelTool } from '../src/protocol/model-request.ts';
import { ResponsesRequest } from '../src/protocol/responses.ts';
import { validationError } from '../src/protocol/errors.ts';

// Compile-time: every field of openai-node's request types is a known field here.
type Unknown<Theirs, Ours> = Exclude<keyof Theirs, keyof Ours>;
const everyResponsesField: [Unknown<ResponseCreateParamsBase, ResponsesRequest>] extends [never] ? true : false = true;
const everyChatField: [Unknown<ChatCompletionCreateParamsBase, ChatRequest>] extends [never] ? true : false = true;

const CODEX: Record<'text' | 'tool_output' | 'known_model', Record<string, unknown>> = JSON.parse(
  readFileSync(new URL('../fixtures/codex-requests.json', import.meta.url), 'utf8'),
);

/** One of every item type openai-node 7.57 lists in `ResponseInputItem`. */
const EVERY_ITEM: ResponseInputItem[] = [
  { role: 'user', content: 'easy message' },
  { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'x', prompt_cache_breakpoint: { mode: 'explicit' } }] },
  {
    type: 'message',
    id: 'msg_1',
    role: 'assistant',
    status: 'completed',
    phase: 'final_answer',
    content: [{ type: 'output_text', text: 'x', annotations: [] }],
  },
  { type: 'file_search_call', id: 'fs_1', queries: ['q'], status: 'completed' },
  { type: 'computer_call', id: 'cu_1', call_id: 'c1', pending_safety_checks: [], status: 'completed', action: { type: 'screenshot' } },
  { type: 'computer_call_output', call_id: 'c1', output: { type: 'computer_screenshot', image_url: 'data:image/png;base64,AAAA' } },
  { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'q' } },
  { type: 'function_call', id: 'fc_1', call_id: 'c2', name: 'f', namespace: 'ns', arguments: '{}', status: 'completed' },
  { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'ok' }] },
  { type: 'tool_search_call', arguments: { query: 'x' }, execution: 'client' },
  { type: 'tool_search_output', tools: [{ type: 'function', name: 'g', parameters: null, strict: null }] },
  { type: 'additional_tools', role: 'developer', tools: [{ type: 'web_search' }] },
  { type: 'configuration_update', reasoning: { effort: 'low' } },
  { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 's' }], encrypted_content: 'gAAAA' },
  { type: 'compaction', encrypted_content: 'gAAAA' },
  { type: 'image_generation_call', id: 'ig_1', result: null, status: 'completed' },
  { type: 'code_interpreter_call', id: 'ci_1', code: 'print(1)', container_id: 'cntr_1', outputs: null, status: 'completed' },
  { type: 'local_shell_call', id: 'lsh_1', call_id: 'c3', status: 'completed', action: { type: 'exec', command: ['ls'], env: {} } },
  { type: 'local_shell_call_output', id: 'lsh_1', output: '{"stdout":""}' },
  { type: 'shell_call', call_id: 'c4', action: { commands: ['pwd'] }, environment: { type: 'local' } },
  { type: 'shell_call_output', call_id: 'c4', output: [{ stdout: '/', stderr: '', outcome: { type: 'exit', exit_code: 0 } }] },
  { type: 'apply_patch_call', call_id: 'c5', status: 'completed', operation: { type: 'update_file', path: 'a', diff: '-a\n+b\n' } },
  { type: 'apply_patch_call_output', call_id: 'c5', status: 'completed', output: null },
  { type: 'mcp_list_tools', id: 'mcpl_1', server_label: 's', tools: [{ name: 't', input_schema: {} }] },
  { type: 'mcp_approval_request', id: 'mcpr_1', server_label: 's', name: 't', arguments: '{}' },
  { type: 'mcp_approval_response', approval_request_id: 'mcpr_1', approve: false },
  { type: 'mcp_call', id: 'mcp_1', server_label: 's', name: 't', arguments: '{}' },
  { type: 'custom_tool_call', call_id: 'c6', name: 'apply_patch', input: '*** Begin Patch' },
  { type: 'custom_tool_call_output', call_id: 'c6', output: 'done' },
  { type: 'compaction_trigger' },
  { type: 'item_reference', id: 'msg_1' },
  { id: 'msg_1', type: null },
  { type: 'program', id: 'prg_1', call_id: 'c7', code: '', fingerprint: 'f' },
  { type: 'program_output', id: 'prgo_1', call_id: 'c7', result: '', status: 'completed' },
];

/** One of every tool type openai-node 7.57 lists in `Tool`. */
const EVERY_TOOL: SdkTool[] = [
  { type: 'function', name: 'f', parameters: { type: 'object' }, strict: true, defer_loading: true },
  { type: 'file_search', vector_store_ids: ['vs_1'] },
  { type: 'computer' },
  { type: 'computer_use_preview', display_width: 800, display_height: 600, environment: 'linux' },
  { type: 'web_search', filters: { allowed_domains: ['example.com'] } },
  { type: 'mcp', server_label: 'docs', server_url: 'https://example.com/mcp', require_approval: 'never' },
  { type: 'code_interpreter', container: { type: 'auto' } },
  { type: 'programmatic_tool_calling' },
  { type: 'image_generation' },
  { type: 'local_shell' },
  { type: 'shell', environment: { type: 'local' } },
  { type: 'custom', name: 'patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } },
  { type: 'namespace', name: 'crm', description: 'CRM', tools: [{ type: 'function', name: 'lookup' }] },
  { type: 'tool_search', execution: 'client' },
  { type: 'web_search_preview' },
  { type: 'apply_patch' },
];

/** A request with every field of `ResponseCreateParams` set. */
const FULL_RESPONSES: ResponseCreateParamsNonStreaming = {
  model: 'gpt-x',
  access_programs: { cyber: 'standard' },
  background: false,
  context_management: [{ type: 'compaction', compact_threshold: 1000 }],
  conversation: null,
  image: { context_compression: 'auto' },
  include: [
    'file_search_call.results',
    'web_search_call.results',
    'web_search_call.action.sources',
    'message.input_image.image_url',
    'computer_call_output.output.image_url',
    'code_interpreter_call.outputs',
    'reasoning.encrypted_content',
    'message.output_text.logprobs',
  ],
  input: EVERY_ITEM,
  instructions: 'Be brief.',
  max_output_tokens: 100,
  max_tool_calls: 5,
  metadata: { k: 'v' },
  moderation: { model: 'omni-moderation-latest', policy: { input: { mode: 'score' } } },
  parallel_tool_calls: true,
  previous_response_id: null,
  prompt: { id: 'pmpt_1', version: '2', variables: { city: 'Paris' } },
  prompt_cache_key: 'k',
  prompt_cache_options: { mode: 'implicit' },
  prompt_cache_retention: '24h',
  reasoning: { effort: 'high', summary: 'auto', context: 'all_turns', mode: 'standard' },
  safety_identifier: 'user-1',
  service_tier: 'flex',
  store: false,
  stream: false,
  stream_options: { include_obfuscation: false },
  temperature: 0.5,
  text: { format: { type: 'json_schema', name: 'w', schema: { type: 'object' } }, verbosity: 'low' },
  tool_choice: { type: 'custom', name: 'patch' },
  tools: EVERY_TOOL,
  top_logprobs: 3,
  top_p: 0.9,
  truncation: 'auto',
  user: 'u',
};

/** A Chat request with every field of `ChatCompletionCreateParams` set. */
const FULL_CHAT: ChatCompletionCreateParamsNonStreaming = {
  model: 'gpt-x',
  messages: [
    { role: 'developer', content: 'Be brief.' },
    { role: 'system', content: [{ type: 'text', text: 'S' }] },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Q' },
        { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
      ],
    },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } },
        { id: 'c2', type: 'custom', custom: { name: 'patch', input: '*** Begin Patch' } },
      ],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'R1' },
    { role: 'tool', tool_call_id: 'c2', content: 'R2' },
    { role: 'assistant', content: null, function_call: { name: 'legacy', arguments: '{}' } },
    { role: 'function', name: 'legacy', content: 'R3' },
  ],
  audio: { format: 'wav', voice: 'alloy' },
  frequency_penalty: 0.1,
  function_call: 'auto',
  functions: [{ name: 'legacy', parameters: { type: 'object' } }],
  logit_bias: { '50256': -100 },
  logprobs: true,
  max_completion_tokens: 50,
  max_tokens: 60,
  metadata: { k: 'v' },
  modalities: ['text'],
  moderation: { model: 'omni-moderation-latest' },
  n: 1,
  parallel_tool_calls: false,
  prediction: { type: 'content', content: 'predicted' },
  presence_penalty: 0.2,
  prompt_cache_key: 'k',
  prompt_cache_options: { mode: 'implicit' },
  prompt_cache_retention: 'in_memory',
  reasoning_effort: 'low',
  response_format: { type: 'json_object' },
  safety_identifier: 'user-1',
  seed: 7,
  service_tier: 'auto',
  stop: ['END'],
  store: true,
  stream: false,
  stream_options: { include_usage: true },
  temperature: 0.3,
  tool_choice: { type: 'custom', custom: { name: 'patch' } },
  tools: [
    { type: 'function', function: { name: 'f', parameters: { type: 'object' } } },
    { type: 'custom', custom: { name: 'patch', format: { type: 'grammar', grammar: { syntax: 'lark', definition: 'start: "x"' } } } },
  ],
  top_logprobs: 2,
  top_p: 0.8,
  user: 'u',
  verbosity: 'high',
  web_search_options: { search_context_size: 'low' },
};

/** The canonical request a provider would get for a parsed Responses request. */
function modelRequest(req: ResponsesRequest & { extras?: ModelRequest['extras'] }, input: ModelInputItem[] = []): ModelRequest {
  return {
    model: 'm',
    instructions: req.instructions ?? null,
    ...modelParams(req),
    input,
    tools: (req.tools ?? []).filter((t) => t.type !== 'mcp') as ModelTool[],
    extras: req.extras,
    passthrough: req.passthrough,
  };
}

function parseError(schema: { safeParse: (v: unknown, o: object) => { success: boolean; error?: any } }, body: unknown) {
  const r = schema.safeParse(body, { reportInput: true });
  assert.equal(r.success, false, 'expected a validation error');
  return validationError(r.error, body);
}

describe('what the schemas accept', () => {
  test("openai-node's request types are covered field for field (checked at compile time)", () => {
    assert.equal(everyResponsesField, true);
    assert.equal(everyChatField, true);
  });

  test('a Responses request with every field, item type and tool type parses, with nothing left unknown', () => {
    const r = ResponsesRequest.parse(FULL_RESPONSES);
    assert.equal(r.passthrough, undefined);
    assert.equal(r.input?.length, EVERY_ITEM.length);
    assert.deepEqual(
      (r.input as { type: string }[]).slice(-4).map((i) => i.type),
      ['item_reference', 'item_reference', 'program', 'program_output'],
    );
    assert.equal(r.tools?.length, EVERY_TOOL.length);
    assert.deepEqual(r.include, FULL_RESPONSES.include);
  });

  test('a Chat request with every field parses, with nothing left unknown', () => {
    const r = ChatRequest.parse(FULL_CHAT);
    assert.equal(r.passthrough, undefined);
    assert.equal(r.messages.length, FULL_CHAT.messages.length);
  });

  test('unknown top-level fields are kept aside for an upstream of the same API, never an error', () => {
    const r = ResponsesRequest.parse({ model: 'm', input: 'x', client_metadata: { session_id: 's' }, future_knob: 3 });
    assert.deepEqual(r.passthrough, { api: 'openai-responses', fields: { client_metadata: { session_id: 's' }, future_knob: 3 } });
    assert.ok(!('client_metadata' in r));
    const c = ChatRequest.parse({ model: 'm', messages: [{ role: 'user', content: 'x' }], top_k: 40, chat_template_kwargs: { thinking: true } });
    assert.deepEqual(c.passthrough, { api: 'openai-chat', fields: { top_k: 40, chat_template_kwargs: { thinking: true } } });
  });

  test('unknown keys inside items, tools and config objects are kept; unknown item and tool types parse', () => {
    const r = ResponsesRequest.parse({
      model: 'm',
      input: [
        { type: 'message', role: 'assistant', phase: 'commentary', content: 'x' },
        { type: 'future_item', payload: 1 },
      ],
      tools: [
        { type: 'function', name: 'f', defer_loading: true, output_schema: {} },
        { type: 'future_tool', x: 1 },
      ],
      reasoning: { effort: 'low', future: true },
    });
    assert.deepEqual(r.input, [
      { type: 'message', role: 'assistant', phase: 'commentary', content: 'x' },
      { type: 'future_item', payload: 1 },
    ]);
    assert.deepEqual(r.tools, [
      { type: 'function', name: 'f', defer_loading: true, output_schema: {} },
      { type: 'future_tool', x: 1 },
    ]);
    assert.deepEqual(r.reasoning, { effort: 'low', future: true });
  });

  test('a wrong type in a known field is a 400 that names the field, however deep', () => {
    const cases: [unknown, string, string][] = [
      [{ model: 'm', input: 'x', include: 'reasoning.encrypted_content' }, 'include', 'invalid_type'],
      [{ model: 'm', input: 'x', reasoning: { summary: 'verbose' } }, 'reasoning.summary', 'invalid_value'],
      [{ model: 'm', input: 'x', prompt_cache_key: 5 }, 'prompt_cache_key', 'invalid_type'],
      [{ model: 'm', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[0].call_id', 'missing_required_parameter'],
      [{ model: 'm', input: [{ type: 'custom_tool_call', call_id: 'c', name: 'p', input: 5 }] }, 'input[0].input', 'invalid_type'],
      [{ model: 'm', input: [{ type: 'shell_call_output', call_id: 'c', output: 'text' }] }, 'input[0].output', 'invalid_type'],
      [
        { model: 'm', input: 'x', tools: [{ type: 'namespace', name: 'n', tools: [{ type: 'function' }] }] },
        'tools[0].tools[0].name',
        'missing_required_parameter',
      ],
      [{ model: 'm', input: 'x', tools: [{ type: 'function', name: 'bad name' }] }, 'tools[0].name', 'invalid_value'],
    ];
    for (const [body, param, code] of cases) {
      const e = parseError(ResponsesRequest, body);
      assert.deepEqual({ status: e.status, param: e.param, code: e.code }, { status: 400, param, code }, JSON.stringify(body));
    }
    const c = parseError(ChatRequest, { model: 'm', messages: [{ role: 'user', content: 'x' }], logprobs: 'yes' });
    assert.deepEqual({ param: c.param, code: c.code }, { param: 'logprobs', code: 'invalid_type' });
  });

  test('every request Codex CLI sent parses; only client_metadata is unknown', () => {
    for (const [name, body] of Object.entries(CODEX)) {
      if (name.startsWith('_')) continue;
      const r = ResponsesRequest.safeParse(body, { reportInput: true });
      assert.ok(r.success, `${name}: ${JSON.stringify(r.error?.issues)}`);
      assert.deepEqual(Object.keys(r.data.passthrough?.fields ?? {}), ['client_metadata'], name);
    }
  });
});

describe('what each upstream API drops', () => {
  test('a Codex request: nothing for OpenAI Responses; Chat and Anthropic drop what they cannot carry', () => {
    const req = ResponsesRequest.parse(CODEX.known_model);
    const labels = (api: Parameters<typeof droppedParams>[1]) => droppedParams(modelRequest(req), api).map(droppedLabel);
    assert.deepEqual(labels('openai-responses'), []);
    assert.deepEqual(labels('openai-chat'), ['tools:tool_search', 'tools:web_search', 'include:reasoning.encrypted_content', 'client_metadata']);
    assert.deepEqual(labels('anthropic'), [
      'tools:tool_search',
      'include:reasoning.encrypted_content',
      'prompt_cache_key',
      'reasoning.effort',
      'text.verbosity',
      'client_metadata',
    ]);
  });

  test('every field has its place', () => {
    const req = ResponsesRequest.parse({
      ...FULL_RESPONSES,
      input: 'x',
      tools: [],
      tool_choice: { type: 'web_search_preview' },
      text: { format: { type: 'json_object' }, verbosity: 'low' },
    });
    const labels = (api: Parameters<typeof droppedParams>[1]) => droppedParams(modelRequest(req), api).map(droppedLabel);
    assert.deepEqual(labels('openai-responses'), []);
    const common = [
      'tool_choice:web_search_preview',
      ...FULL_RESPONSES.include!.map((v) => `include:${v}`),
      'top_logprobs',
      'prompt',
      'context_management',
      'access_programs',
      'image',
    ];
    assert.deepEqual(labels('openai-chat'), [...common, 'truncation', 'reasoning.summary', 'reasoning.context', 'reasoning.mode']);
    assert.deepEqual(labels('anthropic'), [
      ...common,
      'prompt_cache_key',
      'moderation',
      'truncation',
      'reasoning.effort',
      'reasoning.summary',
      'reasoning.context',
      'reasoning.mode',
      'text.verbosity',
      'text.format:json_object',
      'service_tier:flex',
    ]);
  });

  test('Chat-only knobs reach Chat upstreams; what the gateway cannot return is dropped everywhere', () => {
    const chat = chatToResponses(ChatRequest.parse({ ...FULL_CHAT, n: 2, modalities: ['text', 'audio'], unknown_chat_knob: 1 }));
    const labels = (api: Parameters<typeof droppedParams>[1]) => droppedParams(modelRequest(chat), api).map(droppedLabel);
    const never = ['n', 'audio', 'modalities:audio'];
    assert.deepEqual(labels('openai-chat'), ['include:message.output_text.logprobs', 'top_logprobs', ...never]);
    assert.deepEqual(labels('openai-responses'), [
      'seed',
      'presence_penalty',
      'frequency_penalty',
      'logit_bias',
      'prediction',
      'web_search_options',
      'stop',
      'store',
      ...never,
      'unknown_chat_knob',
    ]);
  });

  test('a group that fails over between APIs reports the union, each once; drop_params false names the param', () => {
    const req = ResponsesRequest.parse({ model: 'm', input: 'x', include: ['reasoning.encrypted_content'], client_metadata: {} });
    const d = droppedForApis(modelRequest(req), ['openai-responses', 'openai-chat', 'anthropic', 'openai-chat']);
    assert.deepEqual(d.map(droppedLabel), ['include:reasoning.encrypted_content', 'client_metadata']);
    const e = unsupportedParamError(d[0]!, 'claude');
    assert.deepEqual(e.toBody().error, {
      message:
        "Unsupported parameter: 'include' value 'reasoning.encrypted_content' is not supported by the provider of model 'claude'. Set litellm_settings.drop_params: true to drop it instead.",
      type: 'invalid_request_error',
      param: 'include',
      code: 'unsupported_parameter',
    });
  });
});

describe('requests to each upstream', () => {
  const codexHistory = (): ModelInputItem[] => [
    { type: 'message', role: 'user', content: 'Fix the bug.' },
    { type: 'reasoning', id: 'rs_gw1', summary: [], encrypted_content: 'gAAAA-secret' },
    { type: 'reasoning', id: 'rs_gw2', summary: [{ type: 'summary_text', text: 'no content to replay' }] },
    { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_p', name: 'apply_patch', input: '*** Begin Patch' },
    { type: 'custom_tool_call_output', call_id: 'call_p', output: 'Success.' },
    { type: 'function_call', id: 'fc_2', call_id: 'call_ns', name: 'spawn_agent', namespace: 'multi_agent_v1', arguments: '{"message":"go"}' },
    { type: 'function_call_output', call_id: 'call_ns', output: 'agent-1' },
    { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'q' } } as unknown as ModelInputItem,
  ];

  test('OpenAI Responses: everything as the client sent it, unknown fields too; reasoning only with its encrypted content', () => {
    const req = ResponsesRequest.parse(CODEX.known_model);
    const body = modelRequestToResponses(modelRequest(req, codexHistory())) as unknown as Record<string, any>;
    assert.deepEqual(body.client_metadata, (CODEX.known_model as { client_metadata: unknown }).client_metadata);
    assert.deepEqual(body.include, ['reasoning.encrypted_content']);
    assert.equal(body.prompt_cache_key, (CODEX.known_model as { prompt_cache_key: string }).prompt_cache_key);
    assert.equal(body.store, false);
    assert.deepEqual(body.tools, req.tools);
    assert.deepEqual(
      body.input.map((i: { type: string }) => i.type),
      ['message', 'reasoning', 'custom_tool_call', 'custom_tool_call_output', 'function_call', 'function_call_output', 'web_search_call'],
    );
    assert.deepEqual(body.input[1], { type: 'reasoning', id: 'rs_gw1', summary: [], encrypted_content: 'gAAAA-secret' });
    assert.equal(body.input[4].namespace, 'multi_agent_v1');
    // a Chat client's unknown fields are Chat's: not sent here
    const chat = chatToResponses(ChatRequest.parse({ model: 'm', messages: [{ role: 'user', content: 'x' }], top_k: 4 }));
    assert.ok(!('top_k' in modelRequestToResponses(modelRequest(chat))));
  });

  test('Chat: client tools as functions, their history as tool calls, no reasoning, no unknown Responses fields', () => {
    const req = ResponsesRequest.parse(CODEX.known_model);
    const { body, dropped, calls } = modelRequestToChat(modelRequest(req, codexHistory()), { maxTokensField: 'max_tokens' });
    assert.ok(calls, 'calls to map back');
    assert.deepEqual(dropped, ['tools:tool_search', 'tools:web_search', 'include:reasoning.encrypted_content', 'client_metadata']);
    assert.ok(!JSON.stringify(body).includes('gAAAA-secret'), 'encrypted reasoning never leaves for another provider');
    assert.ok(!('client_metadata' in body) && !('include' in body));
    assert.deepEqual(
      body.tools?.map((t) => (t.type === 'function' ? t.function.name : t.type)),
      ['exec_command', 'write_stdin', 'request_user_input', 'apply_patch', 'view_image', 'get_goal', 'create_goal', 'update_goal'],
    );
    assert.deepEqual(body.messages.slice(1), [
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_p', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_p', content: 'Success.' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_ns', type: 'function', function: { name: 'multi_agent_v1__spawn_agent', arguments: '{"message":"go"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_ns', content: 'agent-1' },
    ]);
    assert.equal(body.prompt_cache_key, (CODEX.known_model as { prompt_cache_key: string }).prompt_cache_key);
  });

  test("Chat: a Chat client's own knobs and unknown fields are sent as they came", () => {
    const chat = chatToResponses(ChatRequest.parse({ ...FULL_CHAT, top_k: 40 }));
    const { body } = modelRequestToChat(modelRequest(chat, []), { maxTokensField: 'max_completion_tokens' });
    const b = body as unknown as Record<string, unknown>;
    for (const k of [
      'seed',
      'stop',
      'presence_penalty',
      'frequency_penalty',
      'logit_bias',
      'prediction',
      'web_search_options',
      'store',
      'metadata',
      'prompt_cache_retention',
      'prompt_cache_options',
      'service_tier',
      'moderation',
      'top_k',
    ])
      assert.deepEqual(b[k], (FULL_CHAT as unknown as Record<string, unknown>)[k] ?? 40, k);
    assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'patch' } });
    assert.ok(!('n' in b) && !('audio' in b) && !('logprobs' in b));
  });

  test('Anthropic: client tools as tools, web search as its server tool, history as tool_use/tool_result, no reasoning', () => {
    const req = ResponsesRequest.parse({ ...CODEX.text, safety_identifier: 'user-7', service_tier: 'default' });
    const { body, dropped, calls } = modelRequestToAnthropic(modelRequest(req, codexHistory()), { defaultMaxTokens: 1000 });
    assert.ok(calls);
    assert.deepEqual(dropped, ['include:reasoning.encrypted_content', 'prompt_cache_key', 'reasoning.summary', 'client_metadata']);
    assert.ok(!JSON.stringify(body).includes('gAAAA-secret'));
    const names = (body.tools ?? []).map((t) => (t as { name: string }).name);
    assert.ok(names.includes('multi_agent_v1__spawn_agent'));
    assert.deepEqual(body.tools?.at(-1), { type: 'web_search_20250305', name: 'web_search', cache_control: { type: 'ephemeral' } });
    assert.deepEqual(body.messages.slice(1), [
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'call_p', name: 'apply_patch', input: { input: '*** Begin Patch' } }],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_p', content: 'Success.' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_ns', name: 'multi_agent_v1__spawn_agent', input: { message: 'go' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_ns', content: 'agent-1', cache_control: { type: 'ephemeral' } }] },
    ]);
    assert.deepEqual(body.metadata, { user_id: 'user-7' });
    assert.equal(body.service_tier, 'standard_only');
  });

  test('a tool choice naming a client tool forces its function, on Chat and Anthropic', () => {
    const req = ResponsesRequest.parse({
      model: 'm',
      input: 'x',
      tools: [
        { type: 'shell', environment: { type: 'local' } },
        { type: 'custom', name: 'patch' },
      ],
      tool_choice: { type: 'shell' },
    });
    assert.deepEqual(modelRequestToChat(modelRequest(req), { maxTokensField: 'max_tokens' }).body.tool_choice, {
      type: 'function',
      function: { name: 'shell' },
    });
    assert.deepEqual(
      modelRequestToAnthropic(modelRequest({ ...req, tool_choice: { type: 'custom', name: 'patch' } }), { defaultMaxTokens: 10 }).body.tool_choice,
      { type: 'tool', name: 'patch' },
    );
  });
});

describe('a Chat request in canonical form', () => {
  test('custom tools and calls, deprecated functions, logprobs and Chat-only knobs', () => {
    const r = chatToResponses(ChatRequest.parse(FULL_CHAT));
    assert.deepEqual(r.tools, [
      { type: 'function', name: 'f', description: undefined, parameters: { type: 'object' }, strict: undefined },
      { type: 'custom', name: 'patch', description: undefined, format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } },
      { type: 'function', name: 'legacy', description: undefined, parameters: { type: 'object' } },
    ]);
    assert.deepEqual(r.tool_choice, { type: 'custom', name: 'patch' });
    const input = r.input as { type: string; call_id?: string }[];
    assert.deepEqual(
      input.map((i) => i.type),
      [
        'message',
        'message',
        'message',
        'function_call',
        'custom_tool_call',
        'function_call_output',
        'custom_tool_call_output',
        'function_call',
        'function_call_output',
      ],
    );
    assert.equal(input[7]!.call_id, input[8]!.call_id, 'a deprecated function message answers its function_call');
    assert.deepEqual((input[2] as unknown as { content: unknown[] }).content[1], { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } });
    assert.deepEqual(r.include, ['message.output_text.logprobs']);
    assert.equal(r.top_logprobs, 2);
    assert.equal(r.extras?.store, true);
    assert.equal(r.store, false, 'the gateway does not store chat completions');
    // it is a valid canonical request
    const { extras: _x, passthrough: _p, ...canonical } = r;
    assert.ok(ResponsesRequest.safeParse(canonical).success);
  });

  test('the deprecated function_call choice, when tool_choice is absent', () => {
    const r = chatToResponses(
      ChatRequest.parse({ model: 'm', messages: [{ role: 'user', content: 'x' }], functions: [{ name: 'f' }], function_call: { name: 'f' } }),
    );
    assert.deepEqual(r.tool_choice, { type: 'function', name: 'f' });
  });
});
