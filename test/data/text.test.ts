/**
 * Text data: files of lines, lists of files with their `file` column, and the `text` statement's
 * tokenizer and vocabulary (fitted on the training split only), through the loader training uses,
 * and `nnspec predict` on raw text with the saved vocabulary.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadData, type LoadedData } from "../../src/data/index.ts";
import { parseText } from "../../src/data/node/read.ts";
import { encodeText, fitText, idCount, OOV_ID, PAD_ID, textLookup, tokenize, type TextPlan } from "../../src/data/text.ts";
import { FileHost } from "../../src/node/host.ts";
import { main } from "../../src/cli/main.ts";

const plan = (p: Partial<TextPlan> = {}): TextPlan => ({ tokens: "chars", case: "lower", punctuation: "strip", pad: "end", truncate: "end", ...p });

function ids(text: string, s: ReturnType<typeof fitText>): number[] {
  const out = new Float32Array(s.length);
  encodeText(text, s, textLookup(s), out, 0);
  return Array.from(out);
}

describe("tokenizer", () => {
  it("splits characters (code points, NFC) and words, lower-cased, without ASCII punctuation", () => {
    expect(tokenize("Don't", plan())).toEqual(["d", "o", "n", "t"]);
    expect(tokenize("Don't", plan({ case: "keep", punctuation: "keep" }))).toEqual(["D", "o", "n", "'", "t"]);
    // e + combining acute is one character after NFC; an astral character is one token
    expect(tokenize("Cafe\u0301 🙂", plan())).toEqual(["c", "a", "f", "é", " ", "🙂"]);
    expect(tokenize("  The cat,  the HAT. ", plan({ tokens: "words" }))).toEqual(["the", "cat", "the", "hat"]);
    expect(tokenize("", plan({ tokens: "words" }))).toEqual([]);
  });

  it("ranks the vocabulary by count, ties in code-unit order, and limits it to `vocab` ids", () => {
    const s = fitText(["abca", "cb", "d"], plan());
    // a, b and c twice... a: 2, b: 2, c: 2, d: 1
    expect(s.vocabulary).toEqual(["a", "b", "c", "d"]);
    expect(idCount(s)).toBe(6);
    expect(s.length).toBe(4);
    const small = fitText(["abca", "cb", "d"], plan({ vocab: 4 }));
    expect(small.vocabulary).toEqual(["a", "b"]);
    expect(ids("abcd", small)).toEqual([2, 3, OOV_ID, OOV_ID]);
  });

  it("pads and truncates at either end", () => {
    const fitted = fitText(["abcdef"], plan({ length: 4 }));
    expect(ids("ab", fitted)).toEqual([2, 3, PAD_ID, PAD_ID]);
    expect(ids("abcdef", fitted)).toEqual([2, 3, 4, 5]);
    const start = { ...fitted, pad: "start" as const, truncate: "start" as const };
    expect(ids("ab", start)).toEqual([PAD_ID, PAD_ID, 2, 3]);
    expect(ids("abcdef", start)).toEqual([4, 5, 6, 7]);
    expect(ids("", fitted)).toEqual([0, 0, 0, 0]);
  });
});

describe("files of lines", () => {
  it("keeps every line as text, numbers too, and skips blank lines", () => {
    const r = parseText("Hello\n\n  007  \r\nworld\n", "w.txt", { format: "lines" });
    if (!("table" in r)) throw new Error("not read");
    const t = r.table;
    expect(t.names).toEqual(["line"]);
    expect([t.n, t.width]).toEqual([3, 1]);
    expect([0, 1, 2].map((i) => t.text.get(i))).toEqual(["Hello", "007", "world"]);
    expect(Array.from(t.lines!)).toEqual([1, 3, 4]);
  });
});

const dir = mkdtempSync(join(tmpdir(), "nnspec-text-"));
writeFileSync(join(dir, "en.txt"), "the\nand\nthat\nthis\nthere\nthen\nthese\nthose\n");
writeFileSync(join(dir, "de.txt"), "der\ndie\ndas\nund\nzwölf\ndaß\n");

async function load(body: string): Promise<{ data?: LoadedData; codes: string[] }> {
  const file = join(dir, `s${Math.random().toString(36).slice(2)}.nnspec`);
  writeFileSync(file, `data words {\n${body}\n}\n`);
  const checked = new FileHost().analyse(file, file);
  const r = await loadData(checked.program.data.get("words")!, file);
  return { data: r.data, codes: [...checked.diagnostics, ...r.diagnostics].filter((d) => d.severity === "error").map((d) => d.code) };
}

describe("a list of files with a text column", () => {
  it("labels each row by its file and fits the vocabulary on the training split only", async () => {
    const { data, codes } = await load(`  from ["en.txt", "de.txt"] format: lines
  label file: class(2, names: [english, german])
  text line chars, length: 6
  split train: 0.5, test: 0.5, stratified, seed: 3`);
    expect(codes).toEqual([]);
    const d = data!;
    expect(d.classNames).toEqual(["english", "german"]);
    expect(d.train.featureShape).toEqual([6]);
    expect(d.train.n + d.test.n).toBe(14);
    const all = "the and that this there then these those der die das und zwölf daß".split(" ");
    const fileOf = (row: number) => (row < 8 ? 0 : 1);
    const text = d.stats.features[0].text!;
    // the vocabulary holds the training words' characters and nothing else
    const trainWords = Array.from(d.train.rows, (r) => all[r]);
    expect(new Set(text.vocabulary)).toEqual(new Set(trainWords.join("")));
    for (const part of [d.train, d.test])
      for (let i = 0; i < part.n; i++) {
        expect(part.y[i]).toBe(fileOf(part.rows[i]));
        const word = all[part.rows[i]];
        const want = ids(word, text);
        expect(Array.from(part.x.subarray(i * 6, (i + 1) * 6))).toEqual(want);
      }
    // a test word with a character no training word has reads it as out-of-vocabulary
    const unseen = [...all.join("")].find((ch) => !text.vocabulary.includes(ch));
    if (unseen) expect(ids(unseen, text)[0]).toBe(OOV_ID);
  });

  it("fits the length to the longest training text when none is given", async () => {
    const { data } = await load(`  from ["en.txt", "de.txt"] format: lines
  label file: class(2)
  text line chars`);
    expect(data!.train.featureShape).toEqual([5]);
  });
});

describe("nnspec predict on raw text", () => {
  it("reads lines with the saved vocabulary and echoes each text beside its class", async () => {
    const spec = join(dir, "lang.nnspec");
    writeFileSync(
      spec,
      `data words {
  from ["en.txt", "de.txt"] format: lines
  label file: class(2, names: [english, german])
  text line chars, length: 5
}

model lang(ids: int[5]) -> logits: [2] {
  embedding 32 4
  lstm 8
  dense 2
}

train lang on words {
  loss sparse_cross_entropy(from_logits: true)
  optimizer adam lr: 0.05
  epochs 30
  batch 4
  seed 1
}
`,
    );
    const quiet = { stdout: { write: () => true, isTTY: false }, stderr: { write: () => true } };
    const out = join(dir, "out");
    mkdirSync(out);
    expect(await main(["train", spec, "--out", join(out, "lang")], quiet)).toBe(0);
    const saved = JSON.parse(readFileSync(join(out, "lang", "nnspec.json"), "utf8"));
    expect(saved.preprocess.features[0].kind).toBe("text");
    expect(saved.preprocess.features[0].text.vocabulary.length).toBeGreaterThan(10);
    writeFileSync(join(dir, "new.txt"), "these\nzwölf\n");
    const written: string[] = [];
    const io = { stdout: { write: (s: string) => written.push(s), isTTY: false }, stderr: { write: () => true } };
    expect(await main(["predict", spec, "--model", join(out, "lang"), "--input", join(dir, "new.txt")], io)).toBe(0);
    const rows = written.join("").trim().split("\n").map((r) => r.split(","));
    expect(rows[0]).toEqual(["line", "file", "p_english", "p_german"]);
    expect(rows.slice(1).map((r) => r.slice(0, 2))).toEqual([
      ["these", "english"],
      ["zwölf", "german"],
    ]);
  });
});
