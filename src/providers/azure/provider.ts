/** Azure OpenAI (`azure/<deployment>`) and Azure AI Foundry's OpenAI-compatible models (`azure_ai/<model>`). */
import type { CreatedProvider, ProviderContext } from '../types.ts';

export function createAzure(ctx: ProviderContext): CreatedProvider {
  throw new Error(`${ctx.params.model}: azure/ is not built yet`);
}

export function createAzureAi(ctx: ProviderContext): CreatedProvider {
  throw new Error(`${ctx.params.model}: azure_ai/ is not built yet`);
}
