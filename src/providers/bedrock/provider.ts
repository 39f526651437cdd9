/** Amazon Bedrock's Converse and ConverseStream APIs (`bedrock/<model-id>`). */
import type { CreatedProvider, ProviderContext } from '../types.ts';

export function createBedrock(ctx: ProviderContext): CreatedProvider {
  throw new Error(`${ctx.params.model}: bedrock/ is not built yet`);
}
