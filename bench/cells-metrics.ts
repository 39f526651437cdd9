/**
 * What the metrics cost a request: the recordings a request with one model call and two MCP tool calls
 * makes (its HTTP line, the model call, two tool calls, a tool listing, its team), timed in this process
 * over many iterations, the median of repeated runs. The gateway's own registry class, not a copy.
 */
import { Metrics } from '../src/telemetry/metrics.ts';

export const METRICS_CELL = 'metrics.record';

export interface MetricsCostResult {
  /** Median over the repeats of µs per request. */
  microsPerRequest: number;
  runs: number[];
}

export function measureMetricsCost(repeats: number, iterations = 200_000): MetricsCostResult {
  const metrics = new Metrics();
  const once = () => {
    metrics.listTools('github', 'hit');
    metrics.modelCall('gpt-4o', 'openai', 0.42, 0.12, { input: 1200, output: 300 });
    metrics.toolCall('github', 'get_issue', 'ok', 0.05);
    metrics.toolCall('github', 'search', 'tool_error', 0.07);
    metrics.teamRequest('platform');
    metrics.teamCost('platform', 0.0042);
    metrics.httpRequest('/v1/responses', 'POST', 200, 0.6);
  };
  for (let i = 0; i < 20_000; i++) once(); // the JIT's turn
  const runs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) once();
    runs.push(Number(process.hrtime.bigint() - started) / 1000 / iterations);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { microsPerRequest: sorted[Math.floor(sorted.length / 2)]!, runs };
}
