/** openapi.yaml and the server's routes describe the same set of endpoints, and the spec is self-consistent. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pino } from 'pino';
import { parse } from 'yaml';
import { loadConfig } from '../src/config/load.ts';
import { buildRoutes } from '../src/http/app.ts';
import { buildGateway } from '../src/server.ts';
import { Drain } from '../src/http/drain.ts';

const spec = parse(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8'));

test('the routes the server exposes and the paths in openapi.yaml are the same set', async () => {
  const logger = pino({ level: 'silent' });
  const gw = await buildGateway(loadConfig({ raw: { general_settings: { database_url: 'sqlite::memory:' } } }), logger);
  const routers = buildRoutes({
    ...gw,
    limiter: gw.limits.limiter,
    drain: new Drain(),
    metricsPublic: false,
    logger,
    bindHost: '127.0.0.1',
    maxRequestBytes: 1024,
    keepAliveMs: 1000,
    configSource: 'test',
  });
  const served = new Set<string>();
  for (const r of routers)
    for (const layer of r.stack) for (const m of layer.methods) if (m !== 'HEAD') served.add(`${m} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`);
  const documented = new Set<string>();
  for (const [path, ops] of Object.entries(spec.paths as Record<string, Record<string, unknown>>))
    for (const m of Object.keys(ops)) if (['get', 'post', 'put', 'patch', 'delete'].includes(m)) documented.add(`${m.toUpperCase()} ${path}`);
  assert.deepEqual([...served].sort(), [...documented].sort());
  await gw.close();
});

test('every $ref in openapi.yaml resolves', () => {
  const refs: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string') refs.push(x);
        else walk(x);
      }
  };
  walk(spec);
  assert.ok(refs.length > 10);
  for (const ref of refs) {
    const target = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<any>((node, key) => node?.[key], spec);
    assert.ok(target, `unresolved ${ref}`);
  }
});
