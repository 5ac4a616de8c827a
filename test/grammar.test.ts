import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { buildEbnf, buildGrammarArtifacts, GRAMMAR_DIR } from "../grammar/build.ts";
import { parse } from "../src/syntax/parse.ts";
import { parser } from "../src/syntax/parser.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const read = (name: string) => readFileSync(join(GRAMMAR_DIR, name), "utf8");

describe("generated grammar files", () => {
  const artifacts = buildGrammarArtifacts();

  it.each(Object.keys(artifacts))("grammar/%s is up to date", (name) => {
    const onDisk = existsSync(join(GRAMMAR_DIR, name)) ? read(name) : "<missing>";
    expect(onDisk === artifacts[name], `grammar/${name} is out of date with src/syntax: run \`npm run grammar\``).toBe(true);
  });

  it("is deterministic", () => {
    expect(buildGrammarArtifacts()).toEqual(artifacts);
  });

  it("railroad.html is self-contained and draws every rule", () => {
    const html = artifacts["railroad.html"];
    expect(html).not.toMatch(/<script[^>]*\ssrc=|<link\b|https?:\/\/unpkg/i);
    // Run the inlined scripts against a stub DOM: the diagrams are built as SVG text.
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThanOrEqual(5);
    const target = { innerHTML: "" };
    const document = { getElementById: () => target, getElementsByClassName: () => [], getElementsByTagName: () => [] };
    const context: Record<string, unknown> = { document };
    context.window = context;
    vm.createContext(context);
    for (const s of scripts) vm.runInContext(s, context);
    const rules = Object.keys(parser.getGAstProductions());
    expect(target.innerHTML.match(/<svg /g)?.length).toBe(rules.length);
    for (const r of rules) expect(target.innerHTML).toContain(`<h2 class="diagramHeader">${r}</h2>`);
  });
});

// ---------------------------------------------------------------------------------------------
// REFERENCE.md
// ---------------------------------------------------------------------------------------------

describe("REFERENCE.md", () => {
  const md = read("REFERENCE.md");
  const blocks = [...md.matchAll(/^```(nnspec(?:-error)?)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => ({
    kind: m[1],
    text: m[2],
    line: md.slice(0, m.index).split("\n").length,
  }));

  it("has examples", () => {
    expect(blocks.filter((b) => b.kind === "nnspec").length).toBeGreaterThanOrEqual(10);
    expect(blocks.filter((b) => b.kind === "nnspec-error").length).toBeGreaterThanOrEqual(3);
  });

  it.each(blocks.map((b) => [b.line, b.kind, b.text] as const))("block at line %i (%s)", (line, kind, text) => {
    const { diagnostics } = parse(text, `REFERENCE.md:${line}`);
    const shown = diagnostics.map((d) => `${d.span.line}:${d.span.col} ${d.code} ${d.message}`);
    if (kind === "nnspec") expect(shown, `a \`\`\`nnspec block must parse cleanly (mark rejected input \`\`\`nnspec-error)`).toEqual([]);
    else expect(shown.length, "a ```nnspec-error block must be rejected by the parser").toBeGreaterThan(0);
  });

  it("its EBNF matches the parser", () => {
    const ebnf = /^```ebnf\n([\s\S]*?)^```/m.exec(md)?.[1] ?? "";
    const words = (s: string) => s.split(/\s+/).filter(Boolean).join(" ");
    expect(words(ebnf), `update the EBNF in grammar/REFERENCE.md; generated from the parser:\n${buildEbnf()}`).toBe(words(buildEbnf()));
  });
});

// ---------------------------------------------------------------------------------------------
// TextMate grammar
// ---------------------------------------------------------------------------------------------

interface TmRule {
  name?: string;
  match?: string;
  begin?: string;
  end?: string;
  while?: string;
  include?: string;
  captures?: Record<string, { name: string }>;
  beginCaptures?: Record<string, { name: string }>;
  endCaptures?: Record<string, { name: string }>;
  patterns?: TmRule[];
}
interface TmGrammar extends TmRule {
  scopeName: string;
  repository: Record<string, TmRule>;
}
interface Token {
  startIndex: number;
  endIndex: number;
  scopes: string[];
}
type Tokenize = (lines: string[]) => Token[][];

const grammarText = read("nnspec.tmLanguage.json");
const grammar = JSON.parse(grammarText) as TmGrammar;

/**
 * Oniguruma syntax that JavaScript regexes lack. A pattern using one is not compiled here (and the
 * in-test tokenizer below could not run it); the grammar currently uses none of them.
 */
const ONIGURUMA_ONLY: [RegExp, string][] = [
  [/\\G/, "\\G: anchor at the end of the previous match"],
  [/\\[AzZ]/, "\\A, \\z, \\Z: string anchors"],
  [/\\h|\\H/, "\\h, \\H: hex digit classes"],
  [/\(\?>/, "(?>…): atomic groups"],
  [/\(\?[imx-]+[):]/, "(?x) and other inline option groups"],
  [/(^|[^\\])[*+?}]\+/, "possessive quantifiers"],
  [/\\[1-9]/, "back-references to begin captures in `end`"],
];

function allRules(g: TmGrammar): TmRule[] {
  const out: TmRule[] = [];
  const walk = (r: TmRule) => {
    out.push(r);
    r.patterns?.forEach(walk);
  };
  g.patterns?.forEach(walk);
  Object.values(g.repository).forEach(walk);
  return out;
}

describe("nnspec.tmLanguage.json", () => {
  it("is a TextMate grammar for source.nnspec", () => {
    expect(grammar.scopeName).toBe("source.nnspec");
    expect(grammar.patterns?.length).toBeGreaterThan(0);
  });

  it("has only resolvable includes and scopes ending in .nnspec", () => {
    for (const r of allRules(grammar)) {
      if (r.include && r.include !== "$self") expect(grammar.repository, r.include).toHaveProperty([r.include.replace(/^#/, "")]);
      const names = [r.name, ...[r.captures, r.beginCaptures, r.endCaptures].flatMap((c) => Object.values(c ?? {}).map((x) => x.name))];
      for (const n of names) if (n !== undefined) expect(n).toMatch(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*\.nnspec$/);
      if (r.begin) expect(r.end ?? r.while, `rule with begin ${r.begin}`).toBeDefined();
    }
  });

  it("every regex compiles as a JavaScript RegExp", () => {
    const skipped: string[] = [];
    let compiled = 0;
    for (const r of allRules(grammar)) {
      for (const src of [r.match, r.begin, r.end, r.while]) {
        if (src === undefined) continue;
        const lacking = ONIGURUMA_ONLY.find(([re]) => re.test(src));
        if (lacking) {
          skipped.push(`${src} (${lacking[1]})`);
          continue;
        }
        expect(() => new RegExp(src, "d"), src).not.toThrow();
        compiled++;
      }
    }
    expect(compiled).toBeGreaterThan(20);
    expect(skipped, "the in-test tokenizer needs JS-compatible patterns").toEqual([]);
  });

  it("the lexer-derived patterns agree with the lexer", () => {
    const number = grammar.repository.number.patterns!.find((p) => p.name === "constant.numeric.nnspec")!.match!;
    const all = (line: string) => [...line.matchAll(new RegExp(number, "g"))].map((m) => m[0]);
    expect(all("128 0.5 .5 1e-3 2.5E+4")).toEqual(["128", "0.5", ".5", "1e-3", "2.5E+4"]);
    // (`0..3` is `0`, `..`, `3` only in context: the range operator is matched before `.3` can be.)
    expect(all("conv2d maxpool1d x1")).toEqual([]);
  });
});

describe("language-configuration.json", () => {
  it("declares comments and brackets", () => {
    const conf = JSON.parse(read("language-configuration.json"));
    expect(conf.comments).toEqual({ lineComment: "#", blockComment: ["/*", "*/"] });
    expect(conf.brackets).toEqual([
      ["{", "}"],
      ["[", "]"],
      ["(", ")"],
    ]);
    expect(conf.autoClosingPairs.map((p: { open: string }) => p.open)).toEqual(expect.arrayContaining(["{", "[", "(", '"']));
    expect(() => new RegExp(conf.wordPattern)).not.toThrow();
    for (const p of Object.values(conf.indentationRules) as string[]) expect(() => new RegExp(p)).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// Tokenizing a sample
// ---------------------------------------------------------------------------------------------

/**
 * A small TextMate tokenizer on JavaScript regexes, enough for this grammar: match and begin/end
 * rules, captures, includes; at each position the earliest match wins, `end` first on a tie, then
 * pattern order (as in vscode-textmate without applyEndPatternLast). Like vscode-textmate it scans
 * each line with a "\n" appended, and the `m` flag gives `^` and `$` Oniguruma's line semantics.
 */
function miniTokenizer(g: TmGrammar): Tokenize {
  const cache = new Map<string, RegExp>();
  const re = (src: string) => {
    let r = cache.get(src);
    if (!r) cache.set(src, (r = new RegExp(src, "dgm")));
    return r;
  };
  const expand = (rules: TmRule[], seen = new Set<TmRule>()): TmRule[] =>
    rules.flatMap((r) => {
      if (!r.include) return [r];
      const target = r.include === "$self" ? g : g.repository[r.include.slice(1)];
      if (seen.has(target)) return [];
      seen.add(target);
      return target.match || target.begin ? [target] : expand(target.patterns ?? [], seen);
    });
  interface Frame {
    rule: TmRule;
    scopes: string[];
  }
  return (lines) => {
    const stack: Frame[] = [{ rule: g, scopes: [g.scopeName] }];
    return lines.map((content) => {
      const line = content + "\n";
      const at: string[][] = Array.from({ length: line.length + 1 }, () => []);
      const paint = (from: number, to: number, scopes: string[]) => {
        for (let i = from; i < to; i++) at[i] = scopes;
      };
      const paintCaptures = (m: RegExpExecArray, caps: TmRule["captures"]) => {
        for (const [k, v] of Object.entries(caps ?? {})) {
          const span = m.indices?.[Number(k)];
          if (span) for (let i = span[0]; i < span[1]; i++) at[i] = [...at[i], v.name];
        }
      };
      let pos = 0;
      for (let guard = 0; pos < line.length && guard < 10_000; guard++) {
        const top = stack[stack.length - 1];
        let best: { m: RegExpExecArray; rule?: TmRule } | undefined;
        if (top.rule.end !== undefined) {
          const r = re(top.rule.end);
          r.lastIndex = pos;
          const m = r.exec(line);
          if (m) best = { m };
        }
        for (const rule of expand(top.rule.patterns ?? [])) {
          const r = re((rule.match ?? rule.begin)!);
          r.lastIndex = pos;
          const m = r.exec(line);
          if (m && (!best || m.index < best.m.index)) best = { m, rule };
        }
        // Nothing more matches, or only an empty match that is not the end of a rule: done.
        if (!best || (best.rule && best.m[0].length === 0)) {
          paint(pos, line.length, top.scopes);
          break;
        }
        const { m, rule } = best;
        const end = m.index + m[0].length;
        paint(pos, m.index, top.scopes);
        if (!rule) {
          paint(m.index, end, top.scopes);
          paintCaptures(m, top.rule.endCaptures ?? top.rule.captures);
          stack.pop();
        } else {
          const scopes = rule.name ? [...top.scopes, rule.name] : top.scopes;
          paint(m.index, end, scopes);
          if (rule.match !== undefined) paintCaptures(m, rule.captures);
          else {
            paintCaptures(m, rule.beginCaptures ?? rule.captures);
            stack.push({ rule, scopes });
          }
        }
        pos = end;
      }
      const tokens: Token[] = [];
      for (let i = 0; i < content.length; i++) {
        const last = tokens[tokens.length - 1];
        if (last && last.scopes.join(" ") === at[i].join(" ")) last.endIndex = i + 1;
        else tokens.push({ startIndex: i, endIndex: i + 1, scopes: at[i] });
      }
      return tokens;
    });
  };
}

const textmateInstalled = existsSync(join(ROOT, "node_modules/vscode-textmate/package.json")) && existsSync(join(ROOT, "node_modules/vscode-oniguruma/package.json"));

/** The real thing, when vscode-textmate and vscode-oniguruma happen to be installed (they are not dependencies). */
async function vscodeTokenizer(): Promise<Tokenize> {
  const req = createRequire(join(ROOT, "package.json"));
  const vsctm = req("vscode-textmate");
  const onig = req("vscode-oniguruma");
  const wasm = readFileSync(join(dirname(req.resolve("vscode-oniguruma")), "onig.wasm"));
  await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p: string[]) => new onig.OnigScanner(p), createOnigString: (s: string) => new onig.OnigString(s) }),
    loadGrammar: async (scope: string) => (scope === "source.nnspec" ? vsctm.parseRawGrammar(grammarText, "nnspec.tmLanguage.json") : null),
  });
  const g = await registry.loadGrammar("source.nnspec");
  return (lines) => {
    let state = vsctm.INITIAL;
    return lines.map((line) => {
      const r = g.tokenizeLine(line, state);
      state = r.ruleStack;
      return r.tokens as Token[];
    });
  };
}

const SAMPLE = [
  /*  0 */ "# iris example",
  /*  1 */ 'import iris, iris_mlp from "examples/iris.nnspec"',
  /*  2 */ "data iris {",
  /*  3 */ '  from "data/iris.csv" skip: 1  // the file',
  /*  4 */ "  features 0..3",
  /*  5 */ "  label species: class(3, names: [setosa, versicolor, virginica])",
  /*  6 */ "  split train: 0.7,  ", // trailing spaces: still continued
  /*  7 */ "        val: 0.15, stratified",
  /*  8 */ "}",
  /*  9 */ "model net(x: [4], ids: int[seq]) -> (a: [3], b: [1]) {",
  /* 10 */ "  h = x -> dense 32 relu",
  /* 11 */ "  conv2d 32 kernel: 4 padding: same",
  /* 12 */ "  s = add h, x; dense 3 /* c */",
  /* 13 */ "}",
  /* 14 */ "train net on iris {",
  /* 15 */ "  loss cross_entropy(from_logits: true)",
  /* 16 */ "  optimizer adam lr: 1e-3, eps: 1e",
  /* 17 */ '  note "tab\\t \\q \\u{1F600} \\u{110000}"',
  /* 18 */ "}",
];

/** [line, text (nth occurrence on the line), scope every character of it must carry]; `!` negates. */
const EXPECT: [number, string, number, string][] = [
  [0, "# iris example", 0, "comment.line.number-sign.nnspec"],
  [1, "import", 0, "keyword.control.import.nnspec"],
  [1, "iris", 0, "entity.name.type.nnspec"],
  [1, "from", 0, "keyword.control.from.nnspec"],
  [1, '"examples/iris.nnspec"', 0, "string.quoted.double.nnspec"],
  [2, "data", 0, "keyword.control.data.nnspec"],
  [2, "iris", 0, "entity.name.type.data.nnspec"],
  [2, "{", 0, "punctuation.section.block.begin.nnspec"],
  [3, "from", 0, "keyword.other.statement.nnspec"],
  [3, "from", 0, "!keyword.control.from.nnspec"],
  [3, '"data/iris.csv"', 0, "string.quoted.double.nnspec"],
  [3, "skip", 0, "variable.parameter.nnspec"],
  [3, "1", 0, "constant.numeric.nnspec"],
  [3, "// the file", 0, "comment.line.double-slash.nnspec"],
  [4, "features", 0, "keyword.other.statement.nnspec"],
  [4, "0", 0, "constant.numeric.nnspec"],
  [4, "..", 0, "keyword.operator.range.nnspec"],
  [4, "3", 0, "constant.numeric.nnspec"],
  [5, "label", 0, "keyword.other.statement.nnspec"],
  [5, "species", 0, "variable.parameter.nnspec"],
  [5, "class", 0, "variable.function.nnspec"],
  [5, "names", 0, "variable.parameter.nnspec"],
  [5, "3", 0, "constant.numeric.nnspec"],
  [5, "setosa", 0, "!keyword.other.statement.nnspec"],
  [6, "split", 0, "keyword.other.statement.nnspec"],
  [6, "train", 0, "variable.parameter.nnspec"],
  [6, "train", 0, "!keyword.control.train.nnspec"],
  [6, ":", 0, "punctuation.separator.key-value.nnspec"],
  [6, ",", 0, "punctuation.separator.comma.nnspec"],
  [7, "val", 0, "variable.parameter.nnspec"],
  [7, "val", 0, "!keyword.other.statement.nnspec"],
  [7, "stratified", 0, "!keyword.other.statement.nnspec"],
  [8, "}", 0, "punctuation.section.block.end.nnspec"],
  [9, "model", 0, "keyword.control.model.nnspec"],
  [9, "net", 0, "entity.name.type.model.nnspec"],
  [9, "x", 0, "variable.parameter.nnspec"],
  [9, "ids", 0, "variable.parameter.nnspec"],
  [9, "int", 0, "support.type.dtype.nnspec"],
  [9, "4", 0, "constant.numeric.nnspec"],
  [9, "->", 0, "keyword.operator.arrow.nnspec"],
  [9, "a", 0, "variable.parameter.nnspec"],
  [10, "h", 0, "variable.other.definition.nnspec"],
  [10, "=", 0, "keyword.operator.assignment.nnspec"],
  [10, "x", 0, "variable.other.input.nnspec"],
  [10, "->", 0, "keyword.operator.arrow.nnspec"],
  [10, "dense", 0, "entity.name.function.layer.nnspec"],
  [10, "32", 0, "constant.numeric.nnspec"],
  [10, "relu", 0, "!entity.name.function.layer.nnspec"],
  [11, "conv2d", 0, "entity.name.function.layer.nnspec"],
  [11, "2", 0, "!constant.numeric.nnspec"],
  [11, "kernel", 0, "variable.parameter.nnspec"],
  [11, "padding", 0, "variable.parameter.nnspec"],
  [12, "s", 0, "variable.other.definition.nnspec"],
  [12, "add", 0, "entity.name.function.layer.nnspec"],
  [12, ";", 0, "punctuation.terminator.statement.nnspec"],
  [12, "dense", 0, "entity.name.function.layer.nnspec"],
  [12, "/* c */", 0, "comment.block.nnspec"],
  [14, "train", 0, "keyword.control.train.nnspec"],
  [14, "net", 0, "entity.name.type.model.nnspec"],
  [14, "on", 0, "keyword.control.on.nnspec"],
  [14, "iris", 0, "entity.name.type.data.nnspec"],
  [15, "loss", 0, "keyword.other.statement.nnspec"],
  [15, "cross_entropy", 0, "variable.function.nnspec"],
  [15, "from_logits", 0, "variable.parameter.nnspec"],
  [15, "true", 0, "constant.language.boolean.nnspec"],
  [16, "optimizer", 0, "keyword.other.statement.nnspec"],
  [16, "1e-3", 0, "constant.numeric.nnspec"],
  [16, "1e", 1, "invalid.illegal.number.nnspec"],
  [17, "note", 0, "keyword.other.statement.nnspec"],
  [17, '"tab', 0, "string.quoted.double.nnspec"],
  [17, "\\t", 0, "constant.character.escape.nnspec"],
  [17, "\\q", 0, "invalid.illegal.escape.nnspec"],
  [17, "\\u{1F600}", 0, "constant.character.escape.nnspec"],
  [17, "\\u", 1, "invalid.illegal.escape.nnspec"],
  [17, "{110000}", 0, "!constant.character.escape.nnspec"],
  [18, "}", 0, "punctuation.section.block.end.nnspec"],
];

function checkSample(tokenize: Tokenize) {
  const lines = tokenize(SAMPLE);
  const failures: string[] = [];
  for (const [ln, text, nth, want] of EXPECT) {
    const line = SAMPLE[ln];
    let idx = -1;
    for (let k = 0; k <= nth; k++) idx = line.indexOf(text, idx + 1);
    if (idx < 0) throw new Error(`sample line ${ln} has no ${text} #${nth}`);
    const covering = lines[ln].filter((t) => t.startIndex < idx + text.length && t.endIndex > idx);
    const negate = want.startsWith("!");
    const scope = negate ? want.slice(1) : want;
    const ok = covering.length > 0 && covering.every((t) => t.scopes.includes(scope) !== negate);
    if (!ok) failures.push(`line ${ln} ${JSON.stringify(text)}: want ${want}, got ${covering.map((t) => `[${t.scopes.slice(1).join(" ")}]`).join(" ")}`);
  }
  expect(failures).toEqual([]);
}

describe("tokenizing a sample", () => {
  it("with the in-test tokenizer", () => {
    checkSample(miniTokenizer(grammar));
  });

  it.skipIf(!textmateInstalled)("with vscode-textmate and vscode-oniguruma", async () => {
    checkSample(await vscodeTokenizer());
  });
});
