/**
 * Reading files: the unquoted fast path agrees with csv-parse cell for cell (property test), quoted
 * CSV, header / skip / delimiter / whitespace options, gzip detection, and the IDX format.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { parseIdx } from "../../src/data/idx.ts";
import { guessFormat, parseText, readTable, type ReadResult } from "../../src/data/node/read.ts";
import { concatTables, TextCells, type Table } from "../../src/data/table.ts";

const tableOf = (r: ReadResult): Table => {
  if (!("table" in r)) throw new Error(r.problems.map((p) => `${p.key} ${JSON.stringify(p.params)}`).join("; "));
  return r.table;
};

/** A table as plain data, NaN-safe, for comparing two parses. */
const plain = (r: ReadResult) =>
  "table" in r
    ? {
        names: r.table.names,
        headerLine: r.table.headerLine,
        width: r.table.width,
        n: r.table.n,
        values: Array.from(r.table.values, (v) => (Number.isNaN(v) ? "NaN" : Object.is(v, -0) ? "-0" : v)),
        text: [...r.table.text],
        markers: [...r.table.markers],
        lines: Array.from(r.table.lines ?? []),
      }
    : r;

const cellArb = fc.oneof(
  fc.integer({ min: -1e6, max: 1e6 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).map(String),
  fc.constantFrom("", "NaN", "NA", "?", "0", "-0", "007", "1e3", "+5", " 7 ", "0x1F", "Infinity", "abc", "red", "12345678901234567890", "1_000", ".5", "5."),
  fc.stringMatching(/^[a-z][a-z0-9 ]{0,6}$/),
);

describe("the unquoted fast path", () => {
  it("reads every unquoted file exactly as csv-parse does", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(",", ";", "\t", "|"),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) }), { minLength: 1, maxLength: 25 }),
        fc.infiniteStream(cellArb),
        fc.boolean(),
        fc.boolean(),
        fc.nat(2),
        (delim, width, shapes, cells, crlf, header, skip) => {
          const lines: string[] = [];
          for (const s of shapes) {
            if (s === -2) lines.push("");
            else {
              const w = Math.max(1, width + (s ?? 0));
              lines.push(Array.from({ length: w }, () => cells.next().value.replaceAll(delim, "")).join(delim));
            }
          }
          const text = lines.join(crlf ? "\r\n" : "\n") + (lines.length % 2 ? "\n" : "");
          const opts = { header, skip, delimiter: delim };
          const fast = parseText(text, "f.csv", opts);
          const slow = parseText(text, "f.csv", { ...opts, alwaysCsvParse: true });
          expect(plain(fast)).toEqual(plain(slow));
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe("CSV and text options", () => {
  it("quoted fields may hold delimiters, quotes and newlines; line numbers follow the file", () => {
    const t = tableOf(parseText('id,name,v\n1,"a, b",2\n2,"say ""hi""",3\n3,"two\nlines",4\n4,x,oops\n', "q.csv", { header: true }));
    expect(t.names).toEqual(["id", "name", "v"]);
    expect(t.n).toBe(4);
    expect([...t.text].map(([, v]) => v)).toEqual(["a, b", 'say "hi"', "two\nlines", "x", "oops"]);
    expect([...t.lines!]).toEqual([2, 3, 5, 6]);
  });

  it("skip drops lines before the header; quoted headers are unquoted", () => {
    const t = tableOf(parseText('3,2,,\n"A","B"\n1,2\n3,4\n5,6\n', "b.csv", { skip: 1, header: true }));
    expect(t.names).toEqual(["A", "B"]);
    expect(t.headerLine).toBe(2);
    expect([...t.values]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...t.lines!]).toEqual([3, 4, 5]);
  });

  it("whitespace-separated files split on runs of blanks and skip blank lines", () => {
    const t = tableOf(parseText("  1 2\t3\n\n4    5 6  \n", "w.txt", { format: "whitespace" }));
    expect([t.n, t.width]).toEqual([2, 3]);
    expect([...t.lines!]).toEqual([1, 3]);
  });

  it("empty cells and markers are missing, text is kept, zeros are numbers", () => {
    const t = tableOf(parseText("0,,NaN,?,abc, 0 \n", "m.csv", {}));
    expect(Array.from(t.values, (v) => (Number.isNaN(v) ? null : v))).toEqual([0, null, null, null, null, 0]);
    expect([...t.markers]).toEqual([
      [2, "NaN"],
      [3, "?"],
    ]);
    expect([...t.text]).toEqual([[4, "abc"]]);
  });

  it("reports ragged rows with the line, and stops after ten", () => {
    const text = "a,b\n" + Array.from({ length: 30 }, (_, i) => (i % 2 ? "1,2" : "1,2,3")).join("\n");
    const r = parseText(text, "r.csv", {});
    if ("table" in r) throw new Error("expected problems");
    expect(r.problems).toHaveLength(10);
    expect(r.problems[0]).toMatchObject({ key: "dataRaggedRow", params: { where: "r.csv, line 2", got: 3, expected: 2 } });
    expect(r.problems[0].notes).toEqual(["the first row (line 1) has 2 fields"]);
  });

  it("guesses IDX from the conventional names", () => {
    expect(guessFormat("train-images-idx3-ubyte.gz")).toBe("idx");
    expect(guessFormat("t10k-labels-idx1-ubyte")).toBe("idx");
    expect(guessFormat("x.idx")).toBe("idx");
    expect(guessFormat("data.csv.gz")).toBe("csv");
  });
});

describe("text cells", () => {
  it("hold cells dense or sparse, iterate in index order, and move with their rows when files are joined", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.nat({ max: 64 }), fc.nat({ max: 5_000_000 })), fc.option(fc.string({ maxLength: 3 }), { nil: undefined })), { maxLength: 200 }), (ops) => {
        const cells = new TextCells();
        const want = new Map<number, string>();
        for (const [at, v] of ops) {
          if (v === undefined) {
            cells.delete(at);
            want.delete(at);
          } else {
            cells.set(at, v);
            want.set(at, v);
          }
        }
        const sorted = [...want].sort((a, b) => a[0] - b[0]);
        expect([...cells]).toEqual(sorted);
        expect(cells.size).toBe(want.size);
        for (const [at] of ops) expect([cells.get(at), cells.has(at)]).toEqual([want.get(at), want.has(at)]);
      }),
    );
    const words = (path: string, text: string) => tableOf(parseText(text, path, { format: "lines" }));
    const joined = concatTables([words("a", "one\ntwo"), words("b", ""), words("c", "three")], "file");
    expect([...joined.text]).toEqual([
      [0, "one"],
      [2, "two"],
      [4, "three"],
    ]);
    expect(Array.from(joined.values)).toEqual([NaN, 0, NaN, 0, NaN, 2]);
  });
});

describe("files on disk", () => {
  const dir = mkdtempSync(join(tmpdir(), "nnspec-read-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("detects gzip by its magic bytes, whatever the name, and strips a UTF-8 BOM", async () => {
    writeFileSync(join(dir, "plain.csv"), gzipSync("\ufeffa,b\n1,2\n"));
    const t = tableOf(await readTable(join(dir, "plain.csv"), "plain.csv", { header: true }));
    expect(t.names).toEqual(["a", "b"]);
    expect([...t.values]).toEqual([1, 2]);
  });

  it("reports a missing file, a folder and corrupt gzip", async () => {
    expect(await readTable(join(dir, "nope.csv"), "nope.csv", {})).toEqual({ problems: [{ key: "dataFileUnreadable", params: { path: "nope.csv", reason: "no such file" } }] });
    expect(await readTable(dir, "dir", {})).toEqual({ problems: [{ key: "dataFileUnreadable", params: { path: "dir", reason: "it is a folder" } }] });
    writeFileSync(join(dir, "bad.gz"), Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    const r = await readTable(join(dir, "bad.gz"), "bad.gz", {});
    expect(r).toMatchObject({ problems: [{ key: "dataFileUnreadable" }] });
  });
});

describe("IDX", () => {
  const header = (type: number, dims: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b[2] = type;
    b[3] = dims.length;
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    return b;
  };

  it("reads unsigned bytes in place, one row per item, with the item shape", () => {
    const bytes = new Uint8Array(Buffer.concat([header(0x08, [2, 2, 3]), Buffer.from([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255])]));
    const r = parseIdx(bytes, "i.idx");
    if (!("table" in r)) throw new Error(JSON.stringify(r));
    expect([r.table.n, r.table.width]).toEqual([2, 6]);
    expect(r.table.itemShape).toEqual([2, 3]);
    expect([...r.table.values.slice(6)]).toEqual([250, 251, 252, 253, 254, 255]);
    expect(r.table.lines).toBeUndefined();
  });

  it("reads big-endian shorts, ints, floats and doubles", () => {
    const cases: [number, number, (b: Buffer, v: number, at: number) => void, number[]][] = [
      [0x0b, 2, (b, v, at) => b.writeInt16BE(v, at), [-300, 5, 32000]],
      [0x0c, 4, (b, v, at) => b.writeInt32BE(v, at), [-70000, 0, 2 ** 30]],
      [0x0d, 4, (b, v, at) => b.writeFloatBE(v, at), [0.5, -1.25, 2 ** 34]],
      [0x0e, 8, (b, v, at) => b.writeDoubleBE(v, at), [0.1, -2.5e-300, 1e300]],
      [0x09, 1, (b, v, at) => b.writeInt8(v, at), [-128, 0, 127]],
    ];
    for (const [type, size, write, vals] of cases) {
      const body = Buffer.alloc(size * vals.length);
      vals.forEach((v, i) => write(body, v, i * size));
      const r = parseIdx(new Uint8Array(Buffer.concat([header(type, [3]), body])), "t.idx");
      if (!("table" in r)) throw new Error(JSON.stringify(r));
      expect([...r.table.values]).toEqual(vals);
    }
  });

  it("rejects bad magic numbers, unknown types, truncated and over-long files", () => {
    const ok = Buffer.concat([header(0x08, [2, 2]), Buffer.from([1, 2, 3, 4])]);
    expect(parseIdx(new Uint8Array(ok.subarray(0, 3)), "x")).toMatchObject({ problem: { kind: "truncated", what: "header" } });
    const bad = Buffer.from(ok);
    bad[0] = 0x1f;
    expect(parseIdx(new Uint8Array(bad), "x")).toMatchObject({ problem: { kind: "invalid" } });
    expect(parseIdx(new Uint8Array(ok.subarray(0, ok.length - 1)), "x")).toEqual({ problem: { kind: "truncated", what: "data for 2 × 2 unsigned bytes", expected: 4, found: 3 } });
    expect(parseIdx(new Uint8Array(Buffer.concat([ok, Buffer.from([0])])), "x")).toMatchObject({ problem: { kind: "invalid", reason: "1 bytes follow the 2 × 2 values the header declares" } });
  });
});
