/** Where a request body carries cache breakpoints (`cache_control`), and with what: path → value. */
export function marks(body: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (v: unknown, path: string) => {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
    } else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k === 'cache_control') out[path] = x;
        else walk(x, path ? `${path}.${k}` : k);
      }
  };
  walk(body, '');
  return out;
}
