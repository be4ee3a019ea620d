/** The byte ranges of a file read so far, merged into sorted, disjoint, non-adjacent segments. */
export class SparseBytes {
  private segments: Array<{ start: number; bytes: Uint8Array }> = [];

  /** The segment holding `offset`, if any. */
  find(offset: number): { start: number; bytes: Uint8Array } | undefined {
    return this.segments.find((s) => s.start <= offset && offset < s.start + s.bytes.length);
  }

  insert(start: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const end = start + bytes.length;
    const touching = this.segments.filter((s) => s.start <= end && start <= s.start + s.bytes.length);
    const from = Math.min(start, ...touching.map((s) => s.start));
    const to = Math.max(end, ...touching.map((s) => s.start + s.bytes.length));
    const merged = new Uint8Array(to - from);
    for (const s of touching) merged.set(s.bytes, s.start - from);
    merged.set(bytes, start - from);
    this.segments = this.segments.filter((s) => !touching.includes(s));
    this.segments.push({ start: from, bytes: merged });
    this.segments.sort((a, b) => a.start - b.start);
  }
}
