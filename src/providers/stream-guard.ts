import { UpstreamStreamError, type ModelEvent } from '../protocol/events.ts';

/**
 * Wraps a provider's event stream so that it never hangs and never leaks SDK errors: silence from the
 * upstream longer than `idleMs` aborts the request and fails the stream (time spent waiting on a slow
 * consumer does not count), and a broken stream surfaces as an `UpstreamStreamError`.
 */
export async function* guardStream(source: AsyncIterable<ModelEvent>, idleMs: number, abort: AbortController): AsyncGenerator<ModelEvent> {
  let waitingOnUpstream = true;
  let timedOut = false;
  // One timer for the whole stream, re-armed per event: no timer or promise per event.
  const timer = setTimeout(function idle() {
    if (!waitingOnUpstream) return void timer.refresh();
    timedOut = true;
    abort.abort();
  }, idleMs);
  let finished = false;
  try {
    for await (const ev of source) {
      waitingOnUpstream = false;
      yield ev;
      waitingOnUpstream = true;
      timer.refresh();
    }
    finished = true;
  } catch (e) {
    if (timedOut) throw new UpstreamStreamError('timeout', `the upstream sent nothing for ${Math.round(idleMs / 1000)} s`);
    if (e instanceof UpstreamStreamError) throw e;
    throw new UpstreamStreamError('server_error', `the upstream stream broke: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
    // The consumer stopped early (client gone, error downstream) or the stream broke: stop the upstream.
    if (!finished) abort.abort();
  }
}
