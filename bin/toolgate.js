#!/usr/bin/env node
// Runs the TypeScript sources directly with Node's type stripping (on by default from Node 22.18;
// older 22.x releases need the flag, so the launcher re-executes itself with it).
import { spawn } from 'node:child_process';

if (process.features.typescript) {
  const { main } = await import('../src/cli.ts');
  await main();
} else {
  const child = spawn(process.execPath, ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', ...process.execArgv, new URL(import.meta.url).pathname, ...process.argv.slice(2)], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => (signal ? process.kill(process.pid, signal) : process.exit(code ?? 1)));
}
