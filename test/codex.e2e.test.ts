/**
 * The real Codex CLI (`codex exec`, a custom `wire_api = "responses"` provider) against the gateway,
 * for a model routed to each provider kind: a plain turn, and a round trip through the shell tool
 * Codex offers (`exec_command`), which Codex runs itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MockRequest } from '../fixtures/mock-provider.ts';
import { describeRun, runCodex } from './support/codex.ts';
import { startTestGateway, type TestGateway, PROVIDER_KINDS } from './support/gateway.ts';

const KEY = 'sk-toolgate-codex';
let t: TestGateway;

before(async () => {
  t = await startTestGateway({ general_settings: { master_key: KEY } });
});
after(() => t.close());

const KINDS = PROVIDER_KINDS;

/** The JSON schema of the function `name` as the provider was offered it, in its own wire form. */
function offeredSchema(req: MockRequest, name: string): any {
  const tools: any[] = req.body.tools ?? [];
  if (req.api === 'chat') return tools.find((x) => x.function?.name === name)?.function.parameters;
  if (req.api === 'anthropic') return tools.find((x) => x.name === name)?.input_schema;
  return tools.find((x) => x.type === 'function' && x.name === name)?.parameters;
}

const codex = (model: string, prompt: string) => runCodex({ gatewayUrl: t.gw.url, apiKey: KEY, model, prompt });

describe('codex exec through the gateway', { concurrency: true }, () => {
  for (const kind of KINDS) {
    describe(`via ${kind.api}`, { concurrency: true }, () => {
      test('a plain turn completes', async () => {
        const m = `codex-plain-${kind.prefix}`;
        t.mock.always(m, { text: `Hello from ${kind.api}.` });
        const run = await codex(`${kind.prefix}/${m}`, 'Say hello.');
        assert.equal(run.code, 0, describeRun(run));
        assert.equal(run.lastMessage, `Hello from ${kind.api}.`);
        assert.ok(
          run.events.some((e) => e.type === 'turn.completed'),
          describeRun(run),
        );
        const seen = t.mock.requestsFor(m);
        assert.equal(seen.length, 1);
        assert.equal(seen[0]!.api, kind.api);
        assert.ok(JSON.stringify(seen[0]!.body).includes('Say hello.'), 'the prompt reached the model');
      });

      test('the model calls the shell tool, Codex runs it, the model reports its output', async () => {
        const m = `codex-shell-${kind.prefix}`;
        // Only running the command yields the token: the command line itself holds `$((6*7))`, not 42.
        const token = `toolgate-${kind.prefix}-42`;
        t.mock.always(m, (req) => {
          const output = req.toolOutputs.at(-1);
          if (output !== undefined) return { text: `The command printed: ${output.trim().split('\n').at(-1)}` };
          // Without this, a lost tool output would have the model call the tool again until the timeout.
          if (t.mock.requestsFor(m).length > 1) return { text: 'No tool output came back.' };
          if (!offeredSchema(req, 'exec_command')) return { text: `exec_command was not offered; tools: ${req.functions.join(', ')}` };
          return { toolCalls: [{ name: 'exec_command', arguments: { cmd: `echo toolgate-${kind.prefix}-$((6*7))` } }] };
        });
        const run = await codex(`${kind.prefix}/${m}`, 'Run the command and tell me what it printed.');
        assert.equal(run.code, 0, describeRun(run));
        assert.equal(run.lastMessage, `The command printed: ${token}`, describeRun(run));

        const executed = run.events.find((e) => e.type === 'item.completed' && e.item.type === 'command_execution');
        assert.ok(executed, `Codex ran no command: ${describeRun(run)}`);
        assert.equal(executed.item.exit_code, 0);
        assert.equal(executed.item.aggregated_output.trim(), token);

        const [first, second, ...rest] = t.mock.requestsFor(m);
        assert.equal(rest.length, 0);
        const schema = offeredSchema(first!, 'exec_command');
        assert.equal(schema.properties.cmd.type, 'string');
        assert.ok(schema.required.includes('cmd'));
        assert.deepEqual(first!.toolOutputs, []);
        assert.match(second!.toolOutputs.at(-1)!, new RegExp(`^${token}$`, 'm'));
      });
    });
  }
});
