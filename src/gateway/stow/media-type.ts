/**
 * Media type parsing (RFC 9110 8.3.1): `type/subtype; name=value; name="quoted \"value\""`.
 * Parameter names are case-insensitive, values keep their case.
 */
export interface MediaType {
  /** Lower-cased `type/subtype`. */
  readonly essence: string;
  readonly parameters: ReadonlyMap<string, string>;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseMediaType(header: string | undefined): MediaType | undefined {
  if (header === undefined) return undefined;
  const semicolon = header.indexOf(';');
  const essence = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  const [type, subtype, extra] = essence.split('/');
  if (
    type === undefined ||
    subtype === undefined ||
    extra !== undefined ||
    !TOKEN.test(type) ||
    !TOKEN.test(subtype)
  ) {
    return undefined;
  }
  const parameters = new Map<string, string>();
  let rest = semicolon === -1 ? '' : header.slice(semicolon + 1);
  while (rest.trim() !== '') {
    const match = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*/.exec(rest);
    if (match === null) return undefined;
    const name = (match[1] ?? '').toLowerCase();
    rest = rest.slice(match[0].length);
    let value: string;
    if (rest.startsWith('"')) {
      let i = 1;
      value = '';
      for (; i < rest.length && rest[i] !== '"'; i += 1) {
        if (rest[i] === '\\' && i + 1 < rest.length) i += 1;
        value += rest[i];
      }
      if (i >= rest.length) return undefined;
      rest = rest.slice(i + 1);
    } else {
      const end = rest.indexOf(';');
      value = (end === -1 ? rest : rest.slice(0, end)).trim();
      rest = end === -1 ? '' : rest.slice(end);
    }
    rest = rest.replace(/^\s*;?/, '');
    if (!parameters.has(name)) parameters.set(name, value);
  }
  return { essence, parameters };
}
