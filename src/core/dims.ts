/**
 * Dimensions: integers, or polynomials over symbolic names declared in a model's signature
 * (`[n, 16]`). Division that does not come out exact stays symbolic as an opaque atom such as
 * `floor((n - 3)/2)`, so two dimensions are equal exactly when their canonical texts are equal.
 * A product whose expansion would pass MAX_DIM_TERMS terms or MAX_DIM_TEXT characters stays an
 * opaque atom `(x)*(y)` too, so a dimension's text grows at most with the sum of its factors'.
 */
export const MAX_DIM_TERMS = 64;
export const MAX_DIM_TEXT = 1000;

interface Term {
  /** sorted atoms; empty for the constant */
  readonly atoms: readonly string[];
  readonly c: number;
}

const keyOf = (atoms: readonly string[]): string => atoms.join("\u0000");

/** Dim.of's shared instances: 0 … SMALL − 1. */
const SMALL = 4096;
const small: Dim[] = [];

export class Dim {
  /** monomial key → term */
  private constructor(private readonly terms: ReadonlyMap<string, Term>) {}

  static of(n: number): Dim {
    // Dims never change, so the small integers (most dimensions) are made once.
    return Number.isInteger(n) && n >= 0 && n < SMALL ? (small[n] ??= Dim.constant(n)) : Dim.constant(n);
  }
  private static constant(n: number): Dim {
    return new Dim(n === 0 ? new Map() : new Map([["", { atoms: [], c: n }]]));
  }
  static sym(name: string): Dim {
    return new Dim(new Map([[keyOf([name]), { atoms: [name], c: 1 }]]));
  }

  /** The value when the dimension is a known integer. */
  get value(): number | undefined {
    if (this.terms.size === 0) return 0;
    if (this.terms.size === 1) return this.terms.get("")?.c;
    return undefined;
  }
  get isKnown(): boolean {
    return this.value !== undefined;
  }
  /** How many monomials the polynomial has. */
  get size(): number {
    return this.terms.size;
  }

  add(o: Dim | number): Dim {
    const x = this.value;
    const y = typeof o === "number" ? o : o.value;
    if (x !== undefined && y !== undefined) return Dim.of(x + y);
    const b = typeof o === "number" ? Dim.of(o) : o;
    const m = new Map(this.terms);
    for (const [k, t] of b.terms) accumulate(m, k, t.atoms, t.c);
    return new Dim(m);
  }
  sub(o: Dim | number): Dim {
    return this.add((typeof o === "number" ? Dim.of(o) : o).scale(-1));
  }
  scale(k: number): Dim {
    if (k === 0) return Dim.of(0);
    return new Dim(new Map([...this.terms].map(([key, t]) => [key, { atoms: t.atoms, c: t.c * k }])));
  }
  /** The product, expanded while it stays within MAX_DIM_TERMS terms, else one opaque atom. */
  mul(o: Dim | number): Dim {
    const x = this.value;
    const y = typeof o === "number" ? o : o.value;
    if (x !== undefined && y !== undefined) return Dim.of(x * y);
    const b = typeof o === "number" ? Dim.of(o) : o;
    const m = new Map<string, Term>();
    for (const ta of this.terms.values())
      for (const tb of b.terms.values()) {
        const atoms = [...ta.atoms, ...tb.atoms].sort();
        accumulate(m, keyOf(atoms), atoms, ta.c * tb.c);
        if (m.size > MAX_DIM_TERMS) return this.opaqueProduct(b);
      }
    const out = new Dim(m);
    return out.toString().length > MAX_DIM_TEXT ? this.opaqueProduct(b) : out;
  }
  private opaqueProduct(b: Dim): Dim {
    return Dim.sym([`(${this})`, `(${b})`].sort().join("*"));
  }
  /** Exact division by an integer, when every coefficient divides. */
  divExact(k: number): Dim | undefined {
    if (k === 0) return undefined;
    for (const t of this.terms.values()) if (t.c % k !== 0) return undefined;
    return new Dim(new Map([...this.terms].map(([key, t]) => [key, { atoms: t.atoms, c: t.c / k }])));
  }
  /** Exact division by another dimension when it is a known integer or equals a factor. */
  divBy(o: Dim): Dim | undefined {
    const v = o.value;
    if (v !== undefined) return this.divExact(v);
    if (this.equals(o)) return Dim.of(1);
    // divide every monomial by a single-monomial divisor
    if (o.terms.size !== 1) return undefined;
    const [d] = [...o.terms.values()];
    const m = new Map<string, Term>();
    for (const t of this.terms.values()) {
      const atoms = [...t.atoms];
      for (const a of d.atoms) {
        const i = atoms.indexOf(a);
        if (i < 0) return undefined;
        atoms.splice(i, 1);
      }
      if (t.c % d.c !== 0) return undefined;
      m.set(keyOf(atoms), { atoms, c: t.c / d.c });
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
    const x = this.value;
    const y = o.value;
    if (x !== undefined || y !== undefined) return x === y;
    return this.toString() === o.toString();
  }

  toString(): string {
    if (this.terms.size === 0) return "0";
    const entries = [...this.terms.values()].map((t) => ({ text: t.atoms.join("*"), degree: t.atoms.length, c: t.c }));
    entries.sort((a, b) => b.degree - a.degree || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    let s = "";
    entries.forEach(({ text, c }, i) => {
      const neg = c < 0;
      const abs = Math.abs(c);
      const body = text === "" ? String(abs) : abs === 1 ? text : `${abs}*${text}`;
      s += i === 0 ? (neg ? `-${body}` : body) : neg ? ` - ${body}` : ` + ${body}`;
    });
    return s;
  }
}

function accumulate(m: Map<string, Term>, key: string, atoms: readonly string[], c: number): void {
  const v = (m.get(key)?.c ?? 0) + c;
  if (v === 0) m.delete(key);
  else m.set(key, { atoms, c: v });
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
