/** Model-name patterns with `*` (LiteLLM's wildcards), as anchored regular expressions capturing each `*`. */
export function globToRegExp(glob: string): RegExp {
  const parts = glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('(.*)')}$`, 's');
}
