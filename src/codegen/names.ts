/**
 * Everything that puts a name or a value from a spec into generated source goes through here, so no
 * spec can break out of a string, an identifier or a comment:
 *
 * - strings and JSON values become literals (`literal`): JSON.stringify escaping, plus the line and
 *   paragraph separators, non-finite numbers, -0 and a `__proto__` key, which JSON leaves ambiguous
 *   in JavaScript source;
 * - identifiers are built from the name's letters and digits only (`Namer`), camel-cased, never a
 *   reserved word, and made unique within their scope with a numeric suffix;
 * - comments carry names through `commentText`, which removes line breaks and `*\/`.
 */

/** Words that cannot name a variable or function in strict-mode TypeScript, and names generated code must not shadow. */
const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for function if import in " +
    "instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package " +
    "private protected public await async of type as any unknown never object string number boolean symbol bigint undefined arguments eval " +
    "NaN Infinity globalThis Object Array Math JSON Promise Error Map Set Number String Boolean process console require module exports"
  ).split(" "),
);

/** Python's keywords and soft keywords, the builtins generated code calls, and the modules it imports. */
export const PYTHON_RESERVED: ReadonlySet<string> = new Set(
  (
    "False None True and as assert async await break class continue def del elif else except finally for from global if import in is " +
    "lambda nonlocal not or pass raise return try while with yield match case type self super len range print int float list dict " +
    "tuple str object Exception torch nn F nt np math json sys os"
  ).split(" "),
);

/** Words of a name: runs of ASCII letters and digits. */
function words(name: string): string[] {
  return name.split(/[^A-Za-z0-9]+/).filter(Boolean);
}

const cap = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

/** `iris_mlp` → `IrisMlp`; anything without a letter or digit → `fallback`. */
export function pascal(name: string, fallback = "X"): string {
  const ws = words(name);
  return ws.length ? ws.map(cap).join("") : fallback;
}

/** `iris_mlp` → `irisMlp`; `2d` → `_2d`; nothing usable → `fallback`. */
export function camel(name: string, fallback = "x"): string {
  const ws = words(name);
  if (!ws.length) return fallback;
  const s = ws[0].charAt(0).toLowerCase() + ws[0].slice(1) + ws.slice(1).map(cap).join("");
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/**
 * Hands out identifiers unique within one scope. A name that is taken (by the scope's fixed names or
 * an earlier request) gets the first free suffix 2, 3, …, so `iris_mlp` and `irisMlp` become
 * `createIrisMlp` and `createIrisMlp2`. Requests are answered in order: the same spec gives the same
 * names.
 */
export class Namer {
  private readonly used: Set<string>;
  constructor(
    taken: Iterable<string> = [],
    private readonly parent?: Namer,
    private readonly reserved: ReadonlySet<string> = parent?.reserved ?? RESERVED,
  ) {
    this.used = new Set(taken);
  }
  private taken(id: string): boolean {
    return this.reserved.has(id) || this.used.has(id) || (this.parent?.taken(id) ?? false);
  }
  /** Reserves exactly `id` (a fixed name of the scope). */
  reserve(id: string): void {
    this.used.add(id);
  }
  /** A fresh identifier from `base` (already of the form [A-Za-z_][A-Za-z0-9_]*). */
  fresh(base: string): string {
    const b = /^[A-Za-z_][A-Za-z0-9_]*$/.test(base) ? base : `_${base.replace(/[^A-Za-z0-9_]/g, "")}`;
    let id = b;
    for (let i = 2; this.taken(id); i++) id = `${b}${i}`;
    this.used.add(id);
    return id;
  }
}

/** A JavaScript/TypeScript literal for a JSON value (or undefined). */
export function literal(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
    return Object.is(v, -0) ? "-0" : String(v);
  }
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string") return stringLiteral(v);
  if (Array.isArray(v)) return `[${v.map(literal).join(", ")}]`;
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{ ${entries.map(([k, x]) => `${propertyKey(k)}: ${literal(x)}`).join(", ")} }`;
  }
  throw new Error(`no literal for a ${typeof v}`);
}

/** A double-quoted string literal; escapes what JSON.stringify leaves raw but JavaScript source treats as a line break. */
export function stringLiteral(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** An object key: bare when it is a plain identifier, quoted otherwise; `__proto__` computed so it stays an own property. */
export function propertyKey(k: string): string {
  if (k === "__proto__") return `["__proto__"]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : stringLiteral(k);
}

/**
 * Text that is safe inside a `//` or `/* *\/` comment: line breaks (\n, \r, U+2028, U+2029) and other
 * control characters become spaces or escapes, `*\/` is broken up, runs of spaces are collapsed.
 */
export function commentText(s: string): string {
  return s
    .replace(/[\r\n\u2028\u2029\u0085]+/g, " ")
    .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .replace(/\*\//g, "*\\/")
    .replace(/ {2,}/g, " ")
    .trim();
}
