/**
 * Globs with "*" (any run of characters), matched without a regular expression: linear in
 * practice, so a pattern from an operator can never cost backtracking (selectors, inventory
 * filters, scopes).
 */
/** A glob with "*" (any run of characters), matched without a regular expression: linear in practice (at most a few stars in 129 characters). */
export function globMatches(glob: string, text: string): boolean {
  return compileGlob(glob)(text);
}

/** globMatches with the pattern split once (inventory filters test one glob against many hosts). */
export function compileGlob(glob: string): (text: string) => boolean {
  const parts = glob.split('*');
  if (parts.length === 1) return (text) => text === glob;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const mids = parts.slice(1, -1).filter((m) => m !== '');
  return (text) => {
    if (!text.startsWith(first) || text.length < first.length + last.length || !text.endsWith(last)) return false;
    let at = first.length;
    const end = text.length - last.length;
    for (const mid of mids) {
      const found = text.indexOf(mid, at);
      if (found < 0 || found + mid.length > end) return false;
      at = found + mid.length;
    }
    return true;
  };
}
