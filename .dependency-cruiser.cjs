// Layering of src/ (top to bottom), checked by test/architecture.test.ts:
//   edges       src/http/, src/mcp-server/, src/cli/   + composition root src/server.ts (with src/replicas.ts, which imports no edge)
//   agent       src/agent/
//   below agent src/providers/, src/mcp-client/, src/access/ (keys, grants, spend), src/limits/ (rate limits, the replicas' bus)
//   bottom      src/protocol/, src/store/, src/config/, src/net/, src/log.ts, src/version.ts, src/lazy.ts
// Paths are relative to the cruise's base dir, so they all start with src/.
// Type-only imports count everywhere except between edges (rule edges-independent).
const EDGES = '^src/(http|mcp-server|cli)/';
const SERVER = '^src/server[.]ts$';
const BOTTOM = '^src/(protocol|store|config|net|telemetry)/|^src/(log|version|lazy)[.]ts$';
const BELOW_AGENT = `^src/(providers|mcp-client|access|limits)/|${BOTTOM}`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-import-of-edges',
      comment: 'Edges (http, mcp-server, cli) sit on top: only other edges and the composition root src/server.ts may depend on them.',
      severity: 'error',
      from: { path: '^src/', pathNot: [EDGES, SERVER] },
      to: { path: EDGES },
    },
    {
      name: 'only-cli-imports-server',
      comment: 'src/server.ts wires everything together; only the CLI starts it (lazily, with a dynamic import).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: SERVER },
    },
    {
      name: 'server-not-to-cli',
      comment: 'The composition root may import anything except the CLI, which is the one that imports it.',
      severity: 'error',
      from: { path: SERVER },
      to: { path: '^src/cli/' },
    },
    {
      name: 'edges-independent',
      comment: 'Edges are siblings and must not depend on each other at run time; type-only imports between them are fine.',
      severity: 'error',
      from: { path: EDGES },
      to: { path: EDGES, pathNot: '^src/$1/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'agent-not-from-below',
      comment: 'The agent orchestrates providers, mcp-client, net and the bottom layer; none of them may reach back up into it.',
      severity: 'error',
      from: { path: BELOW_AGENT },
      to: { path: '^src/agent/' },
    },
    {
      name: 'providers-mcp-client-independent',
      comment: 'Model providers and the MCP upstream client are independent siblings; the agent is what combines them.',
      severity: 'error',
      from: { path: '^src/(providers|mcp-client)/' },
      to: { path: '^src/(providers|mcp-client)/', pathNot: '^src/$1/' },
    },
    {
      name: 'bottom-imports-only-bottom',
      comment: 'protocol, store, config, net, log.ts and version.ts are the foundation: they import nothing from providers, mcp-client, agent, edges or server.ts.',
      severity: 'error',
      from: { path: BOTTOM },
      to: { path: `^src/(providers|mcp-client|access|limits|agent|http|mcp-server|cli)/|${SERVER}` },
    },
    {
      name: 'no-circular',
      comment: 'Circular imports make load order fragile and blur which module owns what.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    // The project's TypeScript (7, native) has no JS compiler API that dependency-cruiser
    // can use, so .ts files are parsed with swc (@swc/core devDependency).
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};
