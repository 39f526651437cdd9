/**
 * The mock provider in a process of the benchmark's own: `node bench/model-server.ts` prints its URL.
 * Its command line names this file rather than fixtures/mock-provider.ts, so that other work on a
 * shared machine that stops its own mocks by name (`pkill -f mock-provider`) does not end a run halfway.
 */
import { startMockProvider } from '../fixtures/mock-provider.ts';

const mock = await startMockProvider(0, { record: false });
process.stdout.write(`${mock.url}\n`);
