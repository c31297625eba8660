/** A numeric CLI flag (commander hands over strings): undefined stays undefined, junk is an error naming the flag. */
export function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${v}"`);
  return n;
}
