/**
 * Dimensions: integers, or polynomials over symbolic names declared in a model's signature
 * (`[n, 16]`). Division that does not come out exact stays symbolic as an opaque atom such as
 * `floor((n - 3)/2)`, so two dimensions are equal exactly when their canonical texts are equal.
 */
export class Dim {
  /** monomial (atoms joined by `*`, "" for the constant) → coefficient */
  private constructor(private readonly terms: ReadonlyMap<string, number>) {}

  static of(n: number): Dim {
    return new Dim(n === 0 ? new Map() : new Map([["", n]]));
  }
  static sym(name: string): Dim {
    return new Dim(new Map([[name, 1]]));
  }

  /** The value when the dimension is a known integer. */
  get value(): number | undefined {
    if (this.terms.size === 0) return 0;
    if (this.terms.size === 1 && this.terms.has("")) return this.terms.get("");
    return undefined;
  }
  get isKnown(): boolean {
    return this.value !== undefined;
  }

  add(o: Dim | number): Dim {
    const b = typeof o === "number" ? Dim.of(o) : o;
    const m = new Map(this.terms);
    for (const [k, c] of b.terms) {
      const v = (m.get(k) ?? 0) + c;
      if (v === 0) m.delete(k);
      else m.set(k, v);
    }
    return new Dim(m);
  }
  sub(o: Dim | number): Dim {
    return this.add((typeof o === "number" ? Dim.of(o) : o).scale(-1));
  }
  scale(k: number): Dim {
    if (k === 0) return Dim.of(0);
    return new Dim(new Map([...this.terms].map(([m, c]) => [m, c * k])));
  }
  mul(o: Dim | number): Dim {
    const b = typeof o === "number" ? Dim.of(o) : o;
    let out = Dim.of(0);
    for (const [ma, ca] of this.terms)
      for (const [mb, cb] of b.terms) {
        const atoms = [...(ma ? ma.split("*") : []), ...(mb ? mb.split("*") : [])].sort();
        out = out.add(new Dim(new Map([[atoms.join("*"), ca * cb]])));
      }
    return out;
  }
  /** Exact division by an integer, when every coefficient divides. */
  divExact(k: number): Dim | undefined {
    if (k === 0) return undefined;
    for (const c of this.terms.values()) if (c % k !== 0) return undefined;
    return new Dim(new Map([...this.terms].map(([m, c]) => [m, c / k])));
  }
  /** Exact division by another dimension when it is a known integer or equals a factor. */
  divBy(o: Dim): Dim | undefined {
    const v = o.value;
    if (v !== undefined) return this.divExact(v);
    if (this.equals(o)) return Dim.of(1);
    // divide every monomial by a single-monomial divisor
    if (o.terms.size !== 1) return undefined;
    const [[dm, dc]] = [...o.terms];
    const datoms = dm.split("*");
    const m = new Map<string, number>();
    for (const [mono, c] of this.terms) {
      const atoms = mono ? mono.split("*") : [];
      for (const a of datoms) {
        const i = atoms.indexOf(a);
        if (i < 0) return undefined;
        atoms.splice(i, 1);
      }
      if (c % dc !== 0) return undefined;
      m.set(atoms.join("*"), c / dc);
    }
    return new Dim(m);
  }
  floorDiv(k: number): Dim {
    const v = this.value;
    if (v !== undefined) return Dim.of(Math.floor(v / k));
    return this.divExact(k) ?? Dim.sym(`floor((${this})/${k})`);
  }
  ceilDiv(k: number): Dim {
    const v = this.value;
    if (v !== undefined) return Dim.of(Math.ceil(v / k));
    return this.divExact(k) ?? Dim.sym(`ceil((${this})/${k})`);
  }
  equals(o: Dim): boolean {
    return this.toString() === o.toString();
  }
  /** Symbols this dimension mentions. */
  symbols(): string[] {
    const s = new Set<string>();
    for (const m of this.terms.keys()) for (const a of m ? m.split("*") : []) s.add(a);
    return [...s].sort();
  }

  toString(): string {
    if (this.terms.size === 0) return "0";
    const entries = [...this.terms].sort(([a], [b]) => {
      const da = a ? a.split("*").length : 0;
      const db = b ? b.split("*").length : 0;
      return db - da || (a < b ? -1 : a > b ? 1 : 0);
    });
    let s = "";
    entries.forEach(([m, c], i) => {
      const neg = c < 0;
      const abs = Math.abs(c);
      const body = m === "" ? String(abs) : abs === 1 ? m : `${abs}*${m}`;
      s += i === 0 ? (neg ? `-${body}` : body) : neg ? ` - ${body}` : ` + ${body}`;
    });
    return s;
  }
}

/** A per-example shape: the batch dimension is implicit and not stored. */
export type Shape = readonly Dim[];

export function shapeText(s: Shape): string {
  return `[*${s.map((d) => `, ${d}`).join("")}]`;
}

/** The number of elements per example. */
export function elements(s: Shape): Dim {
  return s.reduce((acc, d) => acc.mul(d), Dim.of(1));
}

export function known(s: Shape): number[] | undefined {
  const out: number[] = [];
  for (const d of s) {
    const v = d.value;
    if (v === undefined) return undefined;
    out.push(v);
  }
  return out;
}
