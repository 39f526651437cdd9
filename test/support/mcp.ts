/** What MCP tests share. */

/** The text blocks of a tool result, joined by newlines. */
export function toolText(result: object): string {
  return (((result as { content?: unknown }).content as { type: string; text?: string }[]) ?? [])
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('\n');
}
