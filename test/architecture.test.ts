/** The layering of src/ (see .dependency-cruiser.cjs) holds, and every rule of it actually fires on a tree that breaks it. */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';

const root = fileURLToPath(new URL('..', import.meta.url));
const options = await extractDepcruiseOptions(`${root}.dependency-cruiser.cjs`);

/** Cruises `src` under baseDir with the repo's config, so module paths always start with src/. */
async function cruiseSrc(baseDir: string): Promise<ICruiseResult> {
  const { output } = await cruise(['src'], { ...options, baseDir });
  assert.ok(typeof output === 'object', 'dependency-cruiser returned a report instead of a result');
  return output;
}

/** One line per violation: `from → to (rule)`, plus the whole loop for a cycle. */
const violationsOf = (result: ICruiseResult): string[] =>
  result.summary.violations
    .map((v) => `${v.from} → ${v.to} (${v.rule.name})${v.cycle ? `: ${[v.from, ...v.cycle.map((c) => c.name)].join(' → ')}` : ''}`)
    .sort();

test('src/ keeps its layering: no dependency-cruiser violations', async () => {
  const result = await cruiseSrc(root);
  const modules = result.modules.filter((m) => m.source.startsWith('src/'));
  // Guards against a vacuous pass (e.g. no parser for .ts, so no dependencies seen at all).
  const server = modules.find((m) => m.source === 'src/server.ts');
  assert.ok(
    server?.dependencies.some((d) => d.resolved.startsWith('src/agent/')),
    'src/server.ts was not cruised, or its imports were not seen',
  );
  assert.ok(modules.length > 50, `only ${modules.length} modules under src/ were cruised`);
  const unresolved = modules.flatMap((m) =>
    m.dependencies.filter((d) => d.couldNotResolve && d.module.startsWith('.')).map((d) => `${m.source} → ${d.module}`),
  );
  assert.deepEqual(unresolved, [], 'relative imports the layering rules cannot see');
  const violations = violationsOf(result);
  assert.equal(violations.length, 0, `${violations.length} layering violation(s):\n  ${violations.join('\n  ')}`);
});

test('each rule fires on a tree that breaks it, and allowed imports (type-only across edges, cli → server.ts) are not flagged', async () => {
  const result = await cruiseSrc(fileURLToPath(new URL('fixtures/architecture/', import.meta.url)));
  assert.deepEqual(violationsOf(result), [
    'src/agent/a.ts → src/http/h.ts (no-import-of-edges)',
    'src/http/v.ts → src/mcp-server/g.ts (edges-independent)',
    'src/http/v.ts → src/server.ts (only-cli-imports-server)',
    'src/protocol/low.ts → src/agent/high.ts (agent-not-from-below)',
    'src/protocol/low.ts → src/agent/high.ts (bottom-imports-only-bottom)',
    'src/providers/p.ts → src/mcp-client/c.ts (providers-mcp-client-independent)',
    'src/server.ts → src/cli/flags.ts (server-not-to-cli)',
    'src/store/cycle-a.ts → src/store/cycle-b.ts (no-circular): src/store/cycle-a.ts → src/store/cycle-b.ts → src/store/cycle-a.ts',
  ]);
  const fired = new Set(result.summary.violations.map((v) => v.rule.name));
  assert.deepEqual([...fired].sort(), options.ruleSet!.forbidden!.map((r) => r.name).sort(), 'every rule in the config is exercised');
});
