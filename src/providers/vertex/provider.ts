/** Vertex AI (`vertex_ai/<model>`): Gemini models, and Anthropic's Claude models (`vertex_ai/claude-...`). */
import type { CreatedProvider, ProviderContext } from '../types.ts';

export function createVertex(ctx: ProviderContext): CreatedProvider {
  throw new Error(`${ctx.params.model}: vertex_ai/ is not built yet`);
}
