/** The Gemini API's native generateContent / streamGenerateContent (`gemini/<model>`). */
import type { CreatedProvider, ProviderContext } from '../types.ts';

export function createGemini(ctx: ProviderContext): CreatedProvider {
  throw new Error(`${ctx.params.model}: gemini/ is not built yet`);
}
