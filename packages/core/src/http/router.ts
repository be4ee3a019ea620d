/** A small route table: method + path pattern with `:param` segments. */
export interface RouteMatch<T> {
  route: T;
  params: Record<string, string>;
}

interface Entry<T> {
  method: string;
  /** Literal segments, or null where the pattern has a `:param`. */
  literals: (string | null)[];
  names: string[];
  route: T;
}

export class Router<T> {
  /** Entries by number of segments: a path is only compared with patterns of its length. */
  private readonly byLength = new Map<number, Entry<T>[]>();

  add(method: string, pattern: string, route: T): this {
    const segments = pattern.split('/').filter(Boolean);
    const entry: Entry<T> = {
      method,
      literals: segments.map((s) => (s.startsWith(':') ? null : s)),
      names: segments.filter((s) => s.startsWith(':')).map((s) => s.slice(1)),
      route,
    };
    const list = this.byLength.get(segments.length);
    if (list) list.push(entry);
    else this.byLength.set(segments.length, [entry]);
    return this;
  }

  /** The matching route; `methodMismatch` when the path exists under another method. */
  match(method: string, path: string): RouteMatch<T> | 'methodMismatch' | undefined {
    const parts = path.split('/').filter((part) => part !== '');
    const entries = this.byLength.get(parts.length);
    if (!entries) return undefined;
    let mismatch = false;
    for (const entry of entries) {
      if (!matches(entry.literals, parts)) continue;
      if (entry.method !== method) {
        mismatch = true;
        continue;
      }
      const params: Record<string, string> = {};
      let n = 0;
      for (let i = 0; i < parts.length; i++) if (entry.literals[i] === null) params[entry.names[n++]!] = parts[i]!;
      return { route: entry.route, params };
    }
    return mismatch ? 'methodMismatch' : undefined;
  }
}

function matches(literals: (string | null)[], parts: string[]): boolean {
  for (let i = 0; i < literals.length; i++) {
    const literal = literals[i];
    if (literal !== null && literal !== parts[i]) return false;
  }
  return true;
}
