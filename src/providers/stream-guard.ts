import { UpstreamStreamError, type ModelEvent } from '../protocol/events.ts';

/**
 * Wraps a provider's event stream so that it never hangs and never leaks SDK errors:
 * silence longer than `idleMs` aborts the upstream request and fails the stream, and a broken
 * stream surfaces as an `UpstreamStreamError`.
 */
export async function* guardStream(
  source: AsyncIterable<ModelEvent>,
  idleMs: number,
  abort: AbortController,
): AsyncGenerator<ModelEvent> {
  const it = source[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  try {
    while (true) {
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), idleMs);
      });
      let r: IteratorResult<ModelEvent> | 'timeout';
      try {
        r = await Promise.race([it.next(), timeout]);
      } catch (e) {
        if (e instanceof UpstreamStreamError) throw e;
        throw new UpstreamStreamError('server_error', `the upstream stream broke: ${(e as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
      if (r === 'timeout') {
        abort.abort();
        throw new UpstreamStreamError('timeout', `the upstream sent nothing for ${Math.round(idleMs / 1000)} s`);
      }
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!finished) {
      // The consumer stopped early (client gone, error downstream) or the stream broke: stop the upstream.
      abort.abort();
      void it.return?.().catch(() => {});
    }
  }
}
