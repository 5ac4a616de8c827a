/**
 * Property tests of the front end (parse → resolve → format) on hostile input:
 *  - it never throws and never hangs, whatever the text: random unicode and bytes, token soups drawn
 *    from the language's own vocabulary, mutations of real specs, and pathological files;
 *  - every diagnostic has a catalog code and a span inside the text whose line and column agree
 *    with its offsets (so do the spans of labels, fixes and every AST node);
 *  - on text without syntax errors the formatter is idempotent, keeps every comment, and keeps the
 *    syntax tree (spans aside).
 * Runs are few (FUZZ=N multiplies them) and fast-check seeds each run anew; a failure prints the seed
 * and the shrunk input.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateSpecOfSize } from "../bench/parse.ts";
import { hasErrors, type Diagnostic } from "../src/diagnostics/diagnostic.ts";
import { LineMap, type Span } from "../src/diagnostics/span.ts";
import { format } from "../src/format/printer.ts";
import { LAYERS } from "../src/kinds/layers/registry.ts";
import type { SourceFile } from "../src/syntax/ast.ts";
import { MAX_OPERATORS } from "../src/syntax/lexer.ts";
import { analyseParsed } from "../src/analyse.ts";
import { parse } from "../src/syntax/parse.ts";
import { checkDiagnostic, checkSpan } from "./invariants.ts";
import { editDistance } from "../src/util/suggest.ts";
import { KEYWORDS } from "../src/syntax/tokens.ts";

const ROOT = resolvePath(dirname(fileURLToPath(import.meta.url)), "..");
/** Per-test guard for the pathological files: generous, only there to turn a hang into a failure. */
const EXTREME_MS = 20_000;

// ── the harness ──

interface FrontEnd {
  text: string;
  ast: SourceFile;
  /** The parser's diagnostics (lexical and syntax). */
  syntax: Diagnostic[];
  /** Everything: the parser's and resolve's. */
  diagnostics: Diagnostic[];
  syntaxErrors: boolean;
  formatted: string;
}

/** Runs the whole front end on `text` and checks every invariant that holds for any input. */
function frontEnd(text: string): FrontEnd {
  const parsed = parse(text, "input.nnspec");
  // The whole analysis (resolve, shape check, cross-declaration checks, lints, suppressions), with
  // imports that never resolve and data files that are never there.
  const { diagnostics } = analyseParsed(parsed, "input.nnspec", { importModels: () => ({ error: "no such file" }) }, { readHeader: () => undefined });
  const formatted = format(parsed.ast);
  const lines = new LineMap(text);
  for (const d of diagnostics) checkDiagnostic(d, text, lines);
  checkAstSpans(parsed.ast, text, lines);
  expect(typeof formatted).toBe("string");
  return { text, ast: parsed.ast, syntax: parsed.diagnostics, diagnostics, syntaxErrors: hasErrors(parsed.diagnostics), formatted };
}

/** Every object with a `span` in the tree: its span is valid too. */
function checkAstSpans(ast: SourceFile, text: string, lines: LineMap): void {
  const stack: unknown[] = [ast.decls, ast.comments];
  checkSpan(ast.span, text, lines, "file");
  while (stack.length) {
    const x = stack.pop();
    if (Array.isArray(x)) stack.push(...x);
    else if (x && typeof x === "object") {
      const o = x as Record<string, unknown>;
      if (o.span) checkSpan(o.span as Span, text, lines, `AST node ${String(o.kind ?? "")}`);
      for (const [k, v] of Object.entries(o)) if (k !== "span" && v && typeof v === "object") stack.push(v);
    }
  }
}

/**
 * The tree without positions: what the formatter must preserve. A comma after the last term
 * (`dense 3,` before `}`) is dropped by the formatter on purpose, so it is not compared either.
 */
function stripSpans(x: unknown): unknown {
  if (Array.isArray(x)) {
    const out = x.map(stripSpans);
    const last = out[out.length - 1] as Record<string, unknown> | undefined;
    if (last && typeof last === "object" && "comma" in last) delete last.comma;
    return out;
  }
  if (x && typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (k !== "span") out[k] = stripSpans(v);
    return out;
  }
  return x;
}

/** Trailing blanks are not part of a comment's text as far as the formatter is concerned. */
const normalize = (s: string): string =>
  s
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n");

/** The formatter properties, for text the parser accepts without error. */
function checkFormatter(r: FrontEnd): void {
  const again = parse(r.formatted, "formatted.nnspec");
  expect(again.diagnostics.filter((d) => d.severity === "error"), "the formatted text has syntax errors").toEqual([]);
  expect(format(again.ast), "format is not idempotent").toBe(r.formatted);
  expect(stripSpans(again.ast.decls), "formatting changed the syntax tree").toEqual(stripSpans(r.ast.decls));
  const out = normalize(r.formatted);
  for (const c of r.ast.comments) if (!out.includes(normalize(c.text))) throw new Error(`comment lost: ${JSON.stringify(c.text)}`);
  expect(again.ast.comments.map((c) => normalize(c.text)).sort(), "comments changed").toEqual(r.ast.comments.map((c) => normalize(c.text)).sort());
}

/** Runs everything on `text`; the formatter properties too when the text has no syntax error. */
function check(text: string): FrontEnd {
  const r = frontEnd(text);
  if (!r.syntaxErrors) checkFormatter(r);
  return r;
}

// ── vocabulary ──

const LAYER_NAMES = [...LAYERS.keys()];
const STATEMENTS = ["from", "test_from", "columns", "features", "label", "standardize", "minmax", "scale", "onehot", "reshape", "missing", "split", "keep"];
const TRAIN_STATEMENTS = ["loss", "optimizer", "schedule", "epochs", "batch", "seed", "metrics", "early_stopping"];
const OPTIONS = ["lr", "activation", "kernel", "stride", "padding", "skip", "header", "train", "val", "test", "seed", "rate", "from_logits", "names", "axis"];
const WORDS = ["relu", "softmax", "same", "valid", "adam", "sgd", "mse", "accuracy", "class", "true", "false", "x", "y", "n", "h", "logits", "int", "float", ...LAYER_NAMES, ...STATEMENTS, ...TRAIN_STATEMENTS, ...OPTIONS];

/** Every kind of token the lexer knows, with a few malformed ones. */
const TOKENS = [
  ...KEYWORDS,
  ...WORDS,
  "{", "}", "(", ")", "[", "]", ",", ":", ";", "->", "=", "..", "+", "-", "*", "/",
  "0", "1", "3", "128", "0.5", ".5", "1e-3", "2.5E+4", "1e", "2.5E+", "007",
  '"x.csv"', '""', '"a\\"b"', '"\\u0041\\u{1F600}"', '"bad \\q escape"', '"unterminated',
  "# comment", "// comment", "/* block */", "/* multi\nline */", "/*",
  "\n", "\r\n", "\t", " ", "@", "$", "\\", "'", "`", "é", "😀", "\u0000", "\uFEFF",
];

/** Fragments a few tokens long, so soups often reach deep into the grammar's rules. */
const FRAGMENTS = [
  "data d {", "model m(x: [4]) -> logits: [3] {", "model g(a: [n, 16], b: int[seq]) -> (p: [3], q: [1]) {", "train m on d {",
  "import \"other.nnspec\"", "import a, b from \"lib.nnspec\"", "}", "\n",
  "  dense 16 relu", "  h = x -> dense 3", "  s = add h, x", "  conv2d 32 kernel: [3, 3] padding: same", "  dropout 0.5",
  '  from "data/iris.csv" skip: 1', "  columns a, b,\n    c", "  features 0..3", "  label y: class(3, names: [a, b, c])",
  "  split train: 0.7, val: 0.15, test: 0.15, stratified, seed: 42", "  scale 1 / 255", "  reshape [8, 8, 1]",
  "  loss sparse_cross_entropy(from_logits: true)", "  optimizer adam lr: 1e-3", "  epochs 10; batch 32", "  metrics accuracy",
  "[n * 2 + 1, -(3 - n)]", "f(a, b: [1, 2], c: g(x))", "# trailing", "/* inside */",
];

const soup = (alphabet: readonly string[], maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.tuple(fc.constantFrom(...alphabet), fc.constantFrom("", " ", " ", "\n")), { maxLength }).map((xs) => xs.map(([t, sep]) => t + sep).join(""));

// ── the corpus of valid specs to mutate ──

function nnspecFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, encoding: "utf8" });
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith(".nnspec")).map((n) => join(dir, n));
}

const CORPUS: string[] = [join(ROOT, "test", "fixtures", "iris.nnspec"), ...nnspecFiles(join(ROOT, "specs")), ...nnspecFiles(join(ROOT, "test", "cases"))].map((f) => readFileSync(f, "utf8"));

/** Splits text into tokens and the text between them, so mutations can act on whole tokens. */
const tokensOf = (text: string): string[] => text.match(/"(?:[^"\\\n]|\\.)*"?|\/\*[\s\S]*?\*\/|(?:#|\/\/)[^\n]*|[A-Za-z_]\w*|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|->|\.\.|\s+|[^]/g) ?? [];

type Mutation =
  | { kind: "deleteChars" | "duplicateChars"; at: number; length: number }
  | { kind: "insertChars"; at: number; text: string }
  | { kind: "swapChars"; at: number; other: number }
  | { kind: "deleteToken" | "duplicateToken"; at: number }
  | { kind: "insertToken"; at: number; token: string }
  | { kind: "swapTokens"; at: number; other: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom("deleteChars" as const, "duplicateChars" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("insertChars" as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 4 }), fc.string({ unit: "binary", maxLength: 3 })) }),
  fc.record({ kind: fc.constant("swapChars" as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constantFrom("deleteToken" as const, "duplicateToken" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("insertToken" as const), at: fc.nat(), token: fc.constantFrom(...TOKENS) }),
  fc.record({ kind: fc.constant("swapTokens" as const), at: fc.nat(), other: fc.nat() }),
);

function mutate(text: string, m: Mutation): string {
  if (m.kind.endsWith("Chars")) {
    const n = text.length + 1;
    const at = m.at % n;
    switch (m.kind) {
      case "deleteChars":
        return text.slice(0, at) + text.slice(at + (m as { length: number }).length);
      case "duplicateChars":
        return text.slice(0, at) + text.slice(at, at + (m as { length: number }).length) + text.slice(at);
      case "insertChars":
        return text.slice(0, at) + (m as { text: string }).text + text.slice(at);
      case "swapChars": {
        const chars = [...text];
        if (chars.length < 2) return text;
        const i = m.at % chars.length;
        const j = (m as { other: number }).other % chars.length;
        [chars[i], chars[j]] = [chars[j], chars[i]];
        return chars.join("");
      }
    }
  }
  const toks = tokensOf(text);
  if (toks.length === 0) return m.kind === "insertToken" ? m.token : text;
  const i = m.at % toks.length;
  switch (m.kind) {
    case "deleteToken":
      toks.splice(i, 1);
      break;
    case "duplicateToken":
      toks.splice(i, 0, toks[i]);
      break;
    case "insertToken":
      toks.splice(i, 0, m.token);
      break;
    case "swapTokens": {
      const j = m.other % toks.length;
      [toks[i], toks[j]] = [toks[j], toks[i]];
      break;
    }
  }
  return toks.join("");
}

// ── valid specs built from the grammar ──

const ident = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z_][a-z0-9_]{0,7}$/) },
  { weight: 2, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 1, arbitrary: fc.constantFrom(...KEYWORDS) },
);
const number = fc.oneof(
  fc.nat({ max: 1000 }).map(String),
  fc.constantFrom("0.5", ".5", "0.50", "1e-3", "2.5E+4", "7e2", "1e10", "0.001"),
  fc.tuple(fc.nat({ max: 99 }), fc.nat({ max: 99 })).map(([a, b]) => `${a}.${b}`),
);
const stringLit = fc.oneof(
  fc.stringMatching(/^[a-zA-Z0-9_./ -]{0,12}$/).map((s) => `"${s}"`),
  fc.constantFrom('"a\\"b"', '"tab\\there"', '"\\u0041\\u{1F600}"', '"é😀"', '"back\\\\slash"', '""'),
);
const comment = fc.oneof(
  fc.stringMatching(/^[ a-zA-Z0-9_,.:;(){}\[\]"'=*+-]{0,20}$/).map((s) => `# ${s}`),
  fc.stringMatching(/^[ a-zA-Z0-9_,.:;#(){}"'=-]{0,20}$/).map((s) => `// ${s}`),
  fc.stringMatching(/^[ a-zA-Z0-9_,.:;#(){}"'=-]{0,20}$/).map((s) => `/* ${s} */`),
  fc.tuple(fc.stringMatching(/^[ a-z0-9]{0,12}$/), fc.stringMatching(/^[ a-z0-9]{0,12}$/)).map(([a, b]) => `/* ${a}\n   ${b} */`),
);
/** Comments that can sit between two tokens of one line. */
const inlineComment = fc.stringMatching(/^[ a-z0-9]{0,10}$/).map((s) => `/* ${s} */`);

const { expr } = fc.letrec<{ expr: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    { maxDepth: 3, depthIdentifier: "expr" },
    { weight: 4, arbitrary: number },
    { weight: 4, arbitrary: ident },
    { weight: 1, arbitrary: stringLit },
    { weight: 1, arbitrary: fc.tuple(ident, fc.array(tie("expr"), { maxLength: 3 }), fc.array(fc.tuple(ident, tie("expr")), { maxLength: 2 })).map(([f, a, kw]) => `${f}(${[...a, ...kw.map(([k, v]) => `${k}: ${v}`)].join(", ")})`) },
    { weight: 1, arbitrary: fc.array(tie("expr"), { maxLength: 4 }).map((xs) => `[${xs.join(", ")}]`) },
    { weight: 1, arbitrary: tie("expr").map((e) => `(${e})`) },
    { weight: 1, arbitrary: tie("atom").map((e) => `-${e}`) },
  ),
  expr: fc.oneof(
    { maxDepth: 3, depthIdentifier: "expr" },
    { weight: 5, arbitrary: tie("atom") },
    { weight: 1, arbitrary: fc.tuple(tie("atom"), fc.constantFrom(" + ", " - ", " * ", " / ", "+", "*"), tie("atom")).map(([a, op, b]) => a + op + b) },
    { weight: 1, arbitrary: fc.tuple(tie("atom"), tie("atom")).map(([a, b]) => `${a}..${b}`) },
  ),
}));

/** Between two terms: a space or a comma, which may break the line; comments may sit there too. */
const termSeparator = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(" ", ", ", ",\n      ") },
  { weight: 1, arbitrary: inlineComment.map((c) => ` ${c} `) },
  { weight: 1, arbitrary: comment.filter((c) => !c.includes("\n")).map((c) => `,  ${c}\n      `) },
);
/** A statement's or layer's terms: values and `key: value`. */
const terms = fc
  .array(fc.tuple(fc.oneof(expr, fc.tuple(ident, expr).map(([k, v]) => `${k}: ${v}`)), termSeparator), { maxLength: 4 })
  .map((ts) =>
    ts
      // A term starting with `-` or `(` would continue the one before it (`a -1` is `a - 1`): keep a comma there.
      .map(([t, sep], i) => (i < ts.length - 1 ? t + (!sep.includes(",") && /^[-(]/.test(ts[i + 1][0]) ? ", " : sep) : t))
      .join(""),
  );

/** A line inside a block: a statement or layer, with an optional trailing or inline comment. */
const withComments = (line: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(fc.option(comment, { freq: 4 }), line, fc.option(fc.oneof(comment.filter((c) => !c.includes("\n")), inlineComment), { freq: 4 }), fc.constantFrom("", "", "\n", "  \n")).map(
    ([before, l, after, blank]) => `${before ? `  ${before}\n` : ""}  ${l}${after ? `  ${after}` : ""}\n${blank}`,
  );
const statement = fc.tuple(fc.oneof(fc.constantFrom(...STATEMENTS, ...TRAIN_STATEMENTS), ident), terms).map(([h, t]) => (t ? `${h} ${t}` : h));
const layer = fc
  .tuple(fc.option(ident, { freq: 3 }), fc.option(ident, { freq: 4 }), fc.oneof(fc.constantFrom(...LAYER_NAMES), ident), terms)
  .map(([target, input, kind, t]) => `${target ? `${target} = ` : ""}${input ? `${input} -> ` : ""}${kind}${t ? ` ${t}` : ""}`);
/** Several statements on one line with `;`. */
const statementLine = fc.oneof({ weight: 5, arbitrary: statement }, { weight: 1, arbitrary: fc.array(statement, { minLength: 2, maxLength: 3 }).map((s) => s.join("; ")) });
const body = (line: fc.Arbitrary<string>) => fc.array(withComments(line), { maxLength: 6 }).map((ls) => ls.join(""));
/** A comment inside a declaration's header, before its `{`. */
const inHeader = fc.option(inlineComment.map((c) => ` ${c}`), { freq: 8 }).map((c) => c ?? "");
const headerComment = fc.option(fc.oneof(comment.filter((c) => !c.includes("\n")), inlineComment).map((c) => `  ${c}`), { freq: 5 }).map((c) => c ?? "");

const shape = fc.array(expr, { maxLength: 3 }).map((ds) => `[${ds.join(", ")}]`);
const tensorType = fc.tuple(fc.option(fc.constantFrom("int", "float"), { freq: 3 }), shape).map(([d, s]) => (d ?? "") + s);
const output = fc.oneof(fc.tuple(ident, tensorType).map(([n, t]) => `${n}: ${t}`), tensorType, ident);
const outputs = fc.oneof(
  fc.constant(""),
  output.map((o) => ` -> ${o}`),
  fc.array(output, { minLength: 1, maxLength: 3 }).map((os) => ` -> (${os.join(", ")})`),
);

const decl = fc.oneof(
  fc.tuple(ident, inHeader, headerComment, body(statementLine)).map(([n, h, c, b]) => `data ${n}${h} {${c}\n${b}}`),
  fc.tuple(ident, fc.array(fc.tuple(ident, tensorType), { maxLength: 3 }), inHeader, outputs, headerComment, body(layer)).map(
    ([n, ps, h, o, c, b]) => `model ${n}(${ps.map(([p, t]) => `${p}: ${t}`).join(", ")})${h}${o} {${c}\n${b}}`,
  ),
  fc.tuple(ident, ident, inHeader, headerComment, body(statementLine)).map(([m, d, h, c, b]) => `train ${m} on ${d}${h} {${c}\n${b}}`),
  fc.tuple(fc.array(ident, { maxLength: 3 }), stringLit).map(([ns, p]) => `import ${ns.length ? `${ns.join(", ")} from ` : ""}${p}`),
  fc.constantFrom("data empty {}", "model e(x: [1]) {}", "train a on b {\n}"),
);

/** A whole file: declarations with comments and blank lines around them. */
const validSpec = fc
  .array(fc.tuple(fc.option(comment, { freq: 3 }), decl, fc.option(comment.filter((c) => !c.includes("\n")), { freq: 4 }), fc.constantFrom("\n", "\n\n", "\n\n\n")), { maxLength: 5 })
  .chain((ds) =>
    fc.option(comment, { freq: 3 }).map((tail) => ds.map(([before, d, after, gap]) => `${before ? `${before}\n` : ""}${d}${after ? `  ${after}` : ""}${gap}`).join("") + (tail ? `${tail}\n` : "")),
  );

// ── the properties ──

/** `FUZZ=20 npx vitest run test/robustness.test.ts` runs every property 20 times as often. */
const FUZZ = Math.max(1, Number(process.env.FUZZ ?? 1) || 1);
const runs = (n: number) => ({ numRuns: n * FUZZ });
const RUNS = runs(150);

describe("the front end never throws and reports valid spans", () => {
  it("on random unicode text", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "grapheme", maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }), fc.string({ maxLength: 200 })), (text) => {
        check(text);
      }),
      RUNS,
    );
  });

  it("on random bytes decoded as latin1 and as utf8", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, latin1) => {
        check(Buffer.from(bytes).toString(latin1 ? "latin1" : "utf8"));
      }),
      RUNS,
    );
  });

  it("on soups of the language's own tokens", () => {
    fc.assert(
      fc.property(soup(TOKENS, 80), (text) => {
        check(text);
      }),
      runs(300),
    );
  });

  it("on soups of statement and declaration fragments", () => {
    fc.assert(
      fc.property(soup(FRAGMENTS, 25), (text) => {
        check(text);
      }),
      runs(300),
    );
  });

  it(`on mutations of the ${CORPUS.length} example specs`, () => {
    expect(CORPUS.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 5 }), (pick, ms) => {
        check(ms.reduce(mutate, CORPUS[pick % CORPUS.length]));
      }),
      runs(300),
    );
  });

  it("on mutations of generated specs", () => {
    fc.assert(
      fc.property(validSpec, fc.array(mutation, { minLength: 1, maxLength: 3 }), (spec, ms) => {
        check(ms.reduce(mutate, spec));
      }),
      RUNS,
    );
  });
});

describe("the formatter, on specs generated from the grammar", () => {
  it("parses them without error, formats idempotently and keeps every comment and the tree", () => {
    fc.assert(
      fc.property(validSpec, (text) => {
        const r = frontEnd(text);
        expect(r.syntax.map((d) => `${d.code} ${d.span.line}:${d.span.col} ${d.message}`)).toEqual([]);
        checkFormatter(r);
      }),
      runs(200),
    );
  });

  it("keeps every example spec canonical under a second formatting", () => {
    for (const text of CORPUS) {
      const r = frontEnd(text);
      if (!r.syntaxErrors) checkFormatter(r);
    }
  });
});

// ── pathological files ──

/** A deterministic stream of pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MB = 1_000_000;
const codesOf = (r: FrontEnd) => [...new Set(r.diagnostics.map((d) => d.code))].sort();
const iris = CORPUS[0];

describe("pathological files finish and report valid spans", () => {
  it("a 1 MB valid spec", { timeout: 60_000 }, () => {
    const text = generateSpecOfSize(MB);
    expect(text.length).toBeGreaterThanOrEqual(MB);
    // Valid: no errors (the generator writes deep sigmoid stacks, which the lints rightly warn about).
    expect(frontEnd(text).diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  });

  it("1 MB of random garbage", { timeout: EXTREME_MS }, () => {
    const next = rng(7);
    const alphabet = [..."{}()[],:;=+-*/.\"#\\ \n\n\t abcxyz019_é😀\u0000", "->", "..", "/*", "*/", "//", "data", "model", "train", "dense"];
    let text = "";
    const parts: string[] = [];
    let n = 0;
    while (n < MB) {
      const p = alphabet[Math.floor(next() * alphabet.length)];
      parts.push(p);
      n += p.length;
    }
    text = parts.join("");
    const r = frontEnd(text);
    expect(r.diagnostics.length).toBeGreaterThan(0);
  });

  it("1 MB of random printable ASCII", { timeout: EXTREME_MS }, () => {
    const next = rng(11);
    const text = Array.from({ length: MB }, () => String.fromCharCode(next() < 0.05 ? 10 : 32 + Math.floor(next() * 95))).join("");
    frontEnd(text);
  });

  for (const [name, open, close] of [
    ["[", "[", "]"],
    ["(", "(", ")"],
    ["{", "{", "}"],
    ["mixed", "[({", "})]"],
    ["mixed, interleaved", "([{(", ")}])"],
  ] as const) {
    it(`10,000-deep nesting of ${name}, closed and unclosed, alone and inside a statement`, { timeout: EXTREME_MS }, () => {
      const n = Math.ceil(10_000 / open.length);
      const deep = open.repeat(n) + "1" + close.repeat(n);
      for (const text of [open.repeat(n), deep, `model m(x: [4]) {\n  dense ${deep}\n}\n`, `data d {\n  scale ${open.repeat(n)}\n}\n`, `model m(x: ${deep}) -> ${deep} {}\n`]) {
        const r = frontEnd(text);
        expect(r.diagnostics.some((d) => d.code === "NN0006" || d.code === "NN0103")).toBe(true);
      }
    });
  }

  it("10,000 unclosed `(`", { timeout: EXTREME_MS }, () => {
    const r = frontEnd("(".repeat(10_000));
    expect(codesOf(r)).toContain("NN0103");
    frontEnd(`data d {\n  x ${"f(".repeat(10_000)}\n}\n`);
    frontEnd(`model m(${"(".repeat(10_000)}`);
  });

  it("long operator chains (each operator nests the tree one level deeper)", { timeout: EXTREME_MS }, () => {
    // Too many operators (NN0007), or brackets too deep (NN0006) where the chain nests brackets.
    const tooDeep = (text: string) => expect(codesOf(frontEnd(text)).filter((c) => c === "NN0006" || c === "NN0007")).not.toEqual([]);
    tooDeep(`data d {\n  scale ${"1+".repeat(10_000)}1\n}\n`);
    tooDeep(`model m(x: [${"n*".repeat(10_000)}1]) {\n  dense ${"2 - -".repeat(5_000)}2\n}\n`);
    tooDeep(`data d {\n  scale ${"-".repeat(10_000)}1\n}\n`);
    tooDeep(`data d {\n  scale ${"(-".repeat(5_000)}1${")".repeat(5_000)}\n}\n`);
    tooDeep(`data d {\n  scale (${"1 /\n".repeat(10_000)}1)\n}\n`);
    frontEnd(`data d {\n  features ${"1..".repeat(10_000)}1\n}\n`);
    // Short chains are fine however many there are, and the limit is exact.
    const fine = (text: string) => expect(codesOf(frontEnd(text))).not.toContain("NN0007");
    fine(`data d {\n  scale ${"1+1 ".repeat(2_000)}\n}\n`);
    fine(`data d {\n  scale [${"1 + 1,\n".repeat(2_000)}1]\n}\n`);
    fine(`data d {\n  scale ${"1+".repeat(MAX_OPERATORS)}1\n}\n`);
    tooDeep(`data d {\n  scale ${"1+".repeat(MAX_OPERATORS + 1)}1\n}\n`);
    fine(`data d {\n  scale ${"1+".repeat(MAX_OPERATORS)}1\n  scale ${"1+".repeat(MAX_OPERATORS)}1\n}\n`);
  });

  it("thousands of syntax errors in one block (a CSV pasted into a spec)", { timeout: EXTREME_MS }, () => {
    const csv = "5.1,3.5,1.4,0.2,setosa\n".repeat(3_000);
    frontEnd(`data d {\n${csv}}\n${iris}`);
    frontEnd(`model m(x: [4]) {\n${"= 1\n".repeat(3_000)}}\n`);
    frontEnd(`data d {\n  x ${"a: ".repeat(3_000)}1\n}\n`);
    frontEnd(": 1\n".repeat(3_000));
    frontEnd(csv);
  });

  it("very long statements and very many declarations", { timeout: EXTREME_MS }, () => {
    frontEnd(`data d {\n  columns ${Array.from({ length: 30_000 }, (_, i) => `c${i}`).join(", ")}\n}\n`);
    frontEnd("data a\n".repeat(20_000));
    frontEnd("model m(x: [4]) { dense 3 }\n".repeat(5_000));
    frontEnd(`${"# a comment\n".repeat(50_000)}data d {}\n`);
  });

  // Each unknown name is compared with every name defined so far: a 1 MB unknown layer kind once took
  // ~18 s, 300 unknown 300-character names ~4 minutes, 3,000 unknown short names 21 s.
  it("long or many unknown names, for which did-you-mean looks for suggestions", { timeout: EXTREME_MS }, () => {
    frontEnd(`model m(x: [4]) {\n  ${"a".repeat(MB)}\n}\n`);
    frontEnd(`data d {\n  ${"a".repeat(MB)} 1\n}\n`);
    const name = (i: number, c: string) => `${c.repeat(300)}${i}`;
    frontEnd(`model m(x: [4]) {\n${Array.from({ length: 300 }, (_, i) => `  ${name(i, "t")} = ${name(i, "u")} -> dense 3\n`).join("")}}\n`);
    const r = frontEnd(`model m(x: [4]) -> y: [3] {\n${Array.from({ length: 3000 }, (_, i) => `  h${i} = q${i} -> dense 3\n`).join("")}  dense 3\n}\n`);
    expect(r.diagnostics.filter((d) => d.code === "NN0206")).toHaveLength(3000);
  });

  it("did-you-mean's bounded edit distance equals the full one up to its bound", () => {
    const full = (a: string, b: string): number => {
      const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
      for (let i = 1; i <= a.length; i++)
        for (let j = 1; j <= b.length; j++) {
          d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
          if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      return d[a.length][b.length];
    };
    const word = fc.string({ unit: fc.constantFrom("a", "b", "c", "d"), maxLength: 9 });
    fc.assert(
      fc.property(word, word, fc.nat({ max: 6 }), (a, b, max) => {
        const want = full(a, b);
        expect(editDistance(a, b)).toBe(want);
        expect(editDistance(a, b, max)).toBe(Math.min(want, max + 1));
      }),
      { numRuns: 2000, seed: 20261205 },
    );
  });

  it("symbolic dimensions multiplied many times stay small (expansion is bounded)", { timeout: EXTREME_MS }, () => {
    for (const k of [28, 200]) {
      const factor = "(a + b + c + d)";
      const out = Array.from({ length: k }, () => factor).join(" * ");
      const flat = Array.from({ length: k }, () => factor).join(", ");
      const text = `model m(x: [a, b, c, d]) -> y: [${out}] {\n  dense 4\n}\nmodel n(s: [a, b, c, d], x: [${flat}]) -> y: [${out}] {\n  y = x -> flatten\n}\n`;
      const r = frontEnd(text);
      // m: the rank differs, reported; n: flatten's product equals the declared one, so no error
      const errors = r.diagnostics.filter((d) => d.severity === "error");
      expect(errors.map((d) => [d.code, d.span.line])).toEqual([["NN0305", 1]]);
      for (const d of errors) expect(d.message.length).toBeLessThan(40 * text.length);
    }
  });

  it("an unterminated string at the end of the file", { timeout: EXTREME_MS }, () => {
    expect(codesOf(frontEnd('data d {\n  from "data/iris.csv'))).toContain("NN0002");
    expect(codesOf(frontEnd('"'))).toContain("NN0002");
    expect(codesOf(frontEnd('import "a\\'))).toContain("NN0002");
    frontEnd(`import "${"x".repeat(MB)}`);
  });

  it("a lone `/*`, and a `/*` before a whole spec", { timeout: EXTREME_MS }, () => {
    expect(codesOf(frontEnd("/*"))).toEqual(["NN0004"]);
    expect(codesOf(frontEnd(`${iris}\n/*`))).toContain("NN0004");
    const r = frontEnd(`/*\n${"model m(x: [4]) {\n  dense 3\n}\n".repeat(10_000)}`);
    expect(codesOf(r)).toEqual(["NN0004"]);
    expect(r.ast.decls).toEqual([]);
    expect(r.formatted.startsWith("/*")).toBe(true);
  });

  it("a file of only newlines, blanks or comments", { timeout: EXTREME_MS }, () => {
    for (const text of ["", "\n".repeat(100_000), "\r\n".repeat(50_000), " \t\n".repeat(30_000), "# only a comment", "/* x */"]) {
      const r = check(text);
      expect(r.diagnostics).toEqual([]);
    }
    expect(frontEnd("\n".repeat(100_000)).formatted).toBe("");
  });

  it("CRLF or CR line endings, a BOM and tabs change nothing", { timeout: EXTREME_MS }, () => {
    const base = frontEnd(iris);
    expect(base.syntaxErrors).toBe(false);
    for (const text of [iris.replace(/\n/g, "\r\n"), iris.replace(/\n/g, "\r"), `\uFEFF${iris}`, `\uFEFF${iris.replace(/\n/g, "\r\n")}`, iris.replace(/^ +/gm, "\t"), iris.replace(/^ +/gm, (s) => "\t".repeat(s.length))]) {
      const r = check(text);
      expect(r.syntaxErrors).toBe(false);
      expect(r.formatted).toBe(base.formatted);
    }
  });

  it("a lone CR ends a comment and a line like LF does", () => {
    const text = "# a comment\rmodel m(x: [4]) -> y: [3] {\r  desne 3\r}\r";
    const r = frontEnd(text);
    const d = r.diagnostics.find((x) => x.code === "NN0201");
    expect([d?.span.line, d?.span.col]).toEqual([3, 3]);
    expect(new LineMap(text).lineText(3)).toBe("  desne 3");
  });

  it("NUL bytes and other control characters", { timeout: EXTREME_MS }, () => {
    for (const ch of ["\u0000", "\u0001", "\u0008", "\u000b", "\u001b", "\u007f", "\u2028", "\ud800", "\udfff"]) {
      const r = frontEnd(iris.replace(/model/g, `${ch}model`) + ch);
      expect(codesOf(r)).toContain("NN0001");
      frontEnd(ch.repeat(10_000));
    }
    frontEnd(`data d {\n  from "a\u0000b"\n}\n`);
  });
});
