/** A small route table: method + path pattern with `:param` segments. */
export interface RouteMatch<T> {
  route: T;
  params: Record<string, string>;
}

interface Entry<T> {
  method: string;
  segments: string[];
  route: T;
}

export class Router<T> {
  private readonly entries: Entry<T>[] = [];

  add(method: string, pattern: string, route: T): this {
    this.entries.push({ method, segments: pattern.split('/').filter(Boolean), route });
    return this;
  }

  /** The matching route; `methodMismatch` when the path exists under another method. */
  match(method: string, path: string): RouteMatch<T> | 'methodMismatch' | undefined {
    const parts = path.split('/').filter(Boolean);
    let mismatch = false;
    for (const entry of this.entries) {
      const params = matchSegments(entry.segments, parts);
      if (!params) continue;
      if (entry.method === method) return { route: entry.route, params };
      mismatch = true;
    }
    return mismatch ? 'methodMismatch' : undefined;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = parts[i]!;
    if (expected.startsWith(':')) params[expected.slice(1)] = actual;
    else if (expected !== actual) return undefined;
  }
  return params;
}
