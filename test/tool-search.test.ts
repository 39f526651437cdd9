/**
 * The tool index (units) and its search quality over the fixture catalog: at least 600 tools on at least
 * 12 servers modelled on real public MCP servers, and natural-language queries each with the one tool a
 * good search returns, both committed before the search was tuned. The right tool must be in the top 3
 * for at least 90% of them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadCatalog, loadQueries } from '../fixtures/catalog-server.ts';
import { splitDeferred, searchOutputText } from '../src/agent/tool-search.ts';
import { listingIndex, ToolIndex } from '../src/search/tool-index.ts';

const tool = (name: string, description = '', properties: Record<string, { description?: string }> = {}) => ({
  name,
  description,
  inputSchema: { type: 'object', properties },
});

describe('the index', () => {
  const index = new ToolIndex([
    { server: 'jira', tool: tool('getJiraIssue', 'Fetch one issue by key') },
    { server: 'github', tool: tool('list_pull-requests', 'Pull requests of a repository') },
    { server: 'zendesk', tool: tool('create_ticket', 'Open a new support ticket for a customer') },
    { server: 'files', tool: tool('read', 'Read a file', { path: { description: 'Absolute path of the file' } }) },
    { server: 'db', tool: tool('query', 'Run SQL', { statement: { description: 'A read-only SELECT statement' } }) },
  ]);
  const top = (q: string) => index.search(q, 1)[0]?.tool.name;

  test('names are split on camelCase, _ and -', () => {
    assert.equal(top('jira issue'), 'getJiraIssue');
    assert.equal(top('pull requests'), 'list_pull-requests');
  });

  test('words are stemmed, stop words dropped', () => {
    assert.equal(top('opening tickets for the customers'), 'create_ticket');
    assert.deepEqual(index.search('the of and for', 5), []);
  });

  test('parameter names and descriptions count; the server name counts', () => {
    assert.equal(top('select statement'), 'query');
    assert.equal(top('zendesk'), 'create_ticket');
  });

  test('a filter and a limit bound the results, best first', () => {
    const hits = index.search('issue ticket file', 5, (e) => e.server !== 'jira');
    assert.ok(hits.every((h) => h.server !== 'jira'));
    assert.ok(hits.length >= 2);
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score);
    assert.equal(index.search('issue ticket file', 1).length, 1);
  });

  test('listingIndex is built once per set of listings, and again when one changes', () => {
    const a = [tool('alpha', 'first')];
    const b = [tool('beta', 'second')];
    const one = listingIndex([
      { server: 'a', tools: a },
      { server: 'b', tools: b },
    ]);
    assert.equal(
      listingIndex([
        { server: 'a', tools: a },
        { server: 'b', tools: b },
      ]),
      one,
    );
    const changed = listingIndex([
      { server: 'a', tools: [...a, tool('gamma', 'third')] },
      { server: 'b', tools: b },
    ]);
    assert.notEqual(changed, one);
    assert.equal(changed.search('gamma', 1)[0]?.tool.name, 'gamma');
  });
});

describe('deferred client tools', () => {
  test('splitDeferred keeps a namespace with what is not deferred, and drops it when all is', () => {
    const { offered, deferred } = splitDeferred([
      { type: 'function', name: 'now', parameters: {} },
      { type: 'function', name: 'later', parameters: {}, defer_loading: true },
      {
        type: 'namespace',
        name: 'crm',
        description: 'CRM',
        tools: [
          { type: 'function', name: 'find', defer_loading: true },
          { type: 'function', name: 'count' },
        ],
      },
      { type: 'namespace', name: 'all_later', description: '', tools: [{ type: 'function', name: 'x', defer_loading: true }] },
    ] as never);
    assert.deepEqual(
      offered.map((t: any) => [t.type, t.name, t.tools?.map((f: any) => f.name)]),
      [
        ['function', 'now', undefined],
        ['namespace', 'crm', ['count']],
      ],
    );
    assert.deepEqual(
      deferred.map((d) => [d.namespace?.name ?? null, d.tool.name]),
      [
        [null, 'later'],
        ['crm', 'find'],
        ['all_later', 'x'],
      ],
    );
  });

  test('a tool_search_output reads to the model as the names it loaded', () => {
    const text = searchOutputText(
      {
        type: 'tool_search_output',
        call_id: 'c',
        tools: [
          { type: 'mcp', server_label: 'gw', allowed_tools: ['create_issue'] },
          { type: 'namespace', name: 'crm', description: '', tools: [{ type: 'function', name: 'find' }] },
          { type: 'function', name: 'weather' },
        ],
      } as never,
      (label, t) => `${label}-${t}`,
    );
    assert.equal(text, 'Loaded 3 tools, which you can call now: gw-create_issue, crm.find, weather.');
    assert.match(
      searchOutputText({ type: 'tool_search_output', tools: [] } as never, () => ''),
      /^No tools matched/,
    );
  });
});

describe('search quality over the fixture catalog', () => {
  const catalog = loadCatalog();
  const queries = loadQueries();

  test('the catalog is large and realistic enough to mean something', () => {
    assert.ok(catalog.length >= 12, `${catalog.length} servers`);
    assert.ok(catalog.reduce((n, s) => n + s.tools.length, 0) >= 600);
    assert.ok(queries.length >= 60, `${queries.length} queries`);
    for (const q of queries)
      assert.ok(
        catalog.some((s) => s.name === q.server && s.tools.some((t) => t.name === q.tool)),
        `${q.server}/${q.tool}`,
      );
  });

  test('the expected tool is in the top 3 for at least 90% of the queries', () => {
    const index = listingIndex(catalog.map((s) => ({ server: s.name, tools: s.tools })));
    const misses: string[] = [];
    for (const q of queries) {
      const top = index.search(q.query, 3).map((h) => `${h.server}/${h.tool.name}`);
      if (!top.includes(`${q.server}/${q.tool}`)) misses.push(`"${q.query}" -> ${top.join(', ')} (want ${q.server}/${q.tool})`);
    }
    const hit = 1 - misses.length / queries.length;
    assert.ok(hit >= 0.9, `top-3 hit rate ${(hit * 100).toFixed(1)}%; misses:\n${misses.join('\n')}`);
  });
});
