/**
 * Glob patterns for rule values: `*` any run of characters (also empty), `?` exactly one character,
 * `\` escapes the next character; everything else is literal. Anchored at both ends.
 */
export function globToRegExp(pattern: string, ignoreCase = false): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const ch = pattern.charAt(i);
    if (ch === '\\' && i + 1 < pattern.length) {
      i += 1;
      source += escapeRegExp(pattern.charAt(i));
    } else if (ch === '*') {
      source += '[\\s\\S]*';
    } else if (ch === '?') {
      source += '[\\s\\S]';
    } else {
      source += escapeRegExp(ch);
    }
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'iu' : 'u');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
