/**
 * The real command line: `node bin/nnspec.mjs ...` in a child process, run from the repository root.
 * Files the tests write go to a fresh temporary directory.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TMP = mkdtempSync(join(tmpdir(), "nnspec-cli-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function nnspec(...args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  return collect(spawn(process.execPath, ["bin/nnspec.mjs", ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] }));
}

function collect(child: ChildProcessByStdio<null, Readable, Readable>): Promise<Run> {
  return new Promise((done, fail) => {
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

const CLEAN = "test/cases/valid/iris.nnspec";
const BROKEN = "test/cases/syntax/top-level.nnspec";
const WITH_FIX = "test/cases/syntax/did-you-mean-declaration.nnspec";

/** A copy of a file in the temporary directory. */
function copy(rel: string, name: string): string {
  const to = join(TMP, name);
  copyFileSync(join(ROOT, rel), to);
  return to;
}

describe.concurrent("nnspec check", { timeout: 60_000 }, () => {
  it("passes a clean file with exit 0 and says ok", async ({ expect }) => {
    const r = await nnspec("check", CLEAN);
    expect(r.stderr).toMatch(/^ok: 1 file checked, no problems$/m);
    expect(r.code, r.stderr).toBe(0);
  });

  it("fails a broken file with exit 1, printing exactly its golden diagnostics", async ({ expect }) => {
    const r = await nnspec("check", BROKEN);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(readFileSync(join(ROOT, `${BROKEN}.txt`), "utf8"));
  });

  it("prints colour with --color, as in the ANSI golden", async ({ expect }) => {
    const rel = "test/cases/names/unknown-layer.nnspec";
    const r = await nnspec("check", "--color", rel);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("\x1b[");
    expect(r.stderr).toBe(readFileSync(join(ROOT, `${rel}.ansi.txt`), "utf8"));
  });

  it("gives JSON with codes, ranges and fixes with --format json", async ({ expect }) => {
    const r = await nnspec("check", "--format", "json", WITH_FIX);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe(readFileSync(join(ROOT, `${WITH_FIX}.json`), "utf8"));
    const out = JSON.parse(r.stdout) as { files: string[]; diagnostics: Array<Record<string, any>> };
    expect(out.files).toEqual([WITH_FIX]);
    const [d] = out.diagnostics;
    expect(d.code).toBe("NN0102");
    expect(d.severity).toBe("error");
    expect(d.range).toEqual({ start: { line: 3, col: 1, offset: expect.any(Number) }, end: { line: 3, col: 6, offset: expect.any(Number) } });
    expect(d.fixes).toEqual([{ title: "replace with `model`", edits: [{ range: d.range, newText: "model" }] }]);
  });

  it("exits 1 and says so for a file that does not exist", async ({ expect }) => {
    const r = await nnspec("check", join(TMP, "nope.nnspec"));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("no such file");
  });

  it("exits 2 when no file is given", async ({ expect }) => {
    const r = await nnspec("check");
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("no files given");
  });

  it("exits 2 on an unknown flag", async ({ expect }) => {
    const r = await nnspec("check", "--bogus", CLEAN);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/bogus/);
  });

  it("exits 2 on a bad --format", async ({ expect }) => {
    const r = await nnspec("check", "--format", "xml", CLEAN);
    expect(r.code, r.stderr).toBe(2);
  });
});

describe.concurrent("nnspec usage", { timeout: 60_000 }, () => {
  it("suggests the command nearest to an unknown one, exit 2", async ({ expect }) => {
    const r = await nnspec("chek", CLEAN);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("unknown command `chek`");
    expect(r.stderr).toContain("did you mean `check`?");
  });

  it("explains a diagnostic code", async ({ expect }) => {
    const r = await nnspec("explain", "NN0101");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NN0101 \(error\): /);
  });

  it("lists a layer kind's options", async ({ expect }) => {
    const r = await nnspec("layers", "dense");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^dense <units>/);
    expect(r.stdout).toMatch(/^ {4}units: /m);
  });
});

describe.concurrent("nnspec fmt", { timeout: 60_000 }, () => {
  // valid/iris.nnspec is deliberately untidy: odd spacing, a line continued by a trailing comma.
  it("--check reports an unformatted file, exit 1, and leaves it untouched", async ({ expect }) => {
    const f = copy(CLEAN, "check-only.nnspec");
    const before = readFileSync(f);
    const r = await nnspec("fmt", "--check", f);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("not formatted");
    expect(readFileSync(f).equals(before)).toBe(true);
  });

  it("rewrites a file, which then passes --check and still checks clean", async ({ expect }) => {
    const f = copy(CLEAN, "rewrite.nnspec");
    const before = readFileSync(f, "utf8");
    const r = await nnspec("fmt", f);
    expect(r.code, r.stderr).toBe(0);
    const after = readFileSync(f, "utf8");
    expect(after).not.toBe(before);
    expect((await nnspec("fmt", "--check", f)).code).toBe(0);
    expect((await nnspec("check", f)).code).toBe(0);
  });

  it("refuses a file with syntax errors, exit 1, leaving it byte for byte", async ({ expect }) => {
    const f = join(TMP, "broken.nnspec");
    const text = "model m(x: [4]) -> [3] {\n  dense   3 = 4\n}\nmodle n\n";
    writeFileSync(f, text);
    const r = await nnspec("fmt", f);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("not formatted because of syntax errors");
    expect(r.stderr).toContain("NN0108");
    expect(readFileSync(f, "utf8")).toBe(text);
  });
});

describe("the command line speaks nnspec (in process)", () => {
  const run = async (...argv: string[]) => {
    const { main } = await import("../src/cli/main.ts");
    let stdout = "";
    let stderr = "";
    const code = await main(argv, { stdout: { write: (s: string) => ((stdout += s), true) }, stderr: { write: (s: string) => ((stderr += s), true) } });
    return { code, stdout, stderr };
  };
  const verbs = ["check", "fmt", "explain", "layers", "train", "eval", "predict", "summary", "build", "lsp"];

  it("answers CMD --help and -h with the command's usage, exit 0, for every verb", async () => {
    for (const v of verbs)
      for (const flag of ["--help", "-h"]) {
        const r = await run(v, flag);
        expect(r.code, `${v} ${flag}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^nnspec ${v}\\b`));
      }
    expect((await run("--version")).stdout).toMatch(/^nnspec \d+\.\d+\.\d+\n$/);
  });

  it("reports an unknown flag in its own words with the nearest flag, never Node's parser text", async () => {
    const cases: [string[], string][] = [
      [["check", "--formt", "json", "x.nnspec"], "unknown option `--formt`; did you mean `--format`?"],
      [["train", "x.nnspec", "--epoch", "3"], "unknown option `--epoch`; did you mean `--epochs`?"],
      [["eval", "x.nnspec", "--modle", "out"], "unknown option `--modle`; did you mean `--model`?"],
      [["predict", "x.nnspec", "--inptu", "a.csv"], "unknown option `--inptu`; did you mean `--input`?"],
      [["build", "x.nnspec", "--taget", "tfjs"], "unknown option `--taget`; did you mean `--target`?"],
      [["train", "x.nnspec", "--out"], "`--out` needs a value"],
      [["check", "--color=yes", "x.nnspec"], "`--color` takes no value"],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stderr).toContain(`error: ${message}`);
      expect(r.stderr).toMatch(/usage: nnspec /);
      expect(r.stderr).not.toMatch(/Unknown option '|argument missing|ERR_PARSE_ARGS/);
    }
  });

  it("takes -o for --out wherever an output is written", async () => {
    const { mkdtempSync, existsSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "nnspec-o-"));
    try {
      const r = await run("train", "specs/iris.nnspec", "--train", "1", "--epochs", "1", "--quiet", "-o", join(dir, "run"));
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join(dir, "run", "model.json"))).toBe(true);
      const e = await run("eval", "specs/iris.nnspec", "--model", join(dir, "run"), "-o", join(dir, "eval"));
      expect(e.code, e.stderr).toBe(0);
      expect(existsSync(join(dir, "eval", "eval-test.json"))).toBe(true);
      const b = await run("build", "specs/iris.nnspec", "--target", "tfjs", "-o", join(dir, "gen"));
      expect(b.code, b.stderr).toBe(0);
      expect(existsSync(join(dir, "gen", "iris", "iris.ts"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** nnspec in a shell whose file-size limit makes any write past `kb` KiB fail, as a full disk does. */
function nnspecOnFullDisk(kb: number, ...args: string[]): Promise<Run> {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return collect(spawn("bash", ["-c", `ulimit -f ${kb}; exec "${process.execPath}" bin/nnspec.mjs ${quoted}`], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] }));
}

describe("a full disk loses nothing", { timeout: 120_000 }, () => {
  // 1,000 unindented layers: 8 KB that formatting grows to 10 KB, past a 9 KiB limit
  const messy = `model m(x: [4]) -> y {\n${"dense 3\n".repeat(1000)}}\n`;
  const files = (dir: string): string[] => readdirSync(dir).sort();

  it("fmt: the file (plain, or one of two hard links) stays as it was, exit 1, no temporary left", async () => {
    const dir = mkdtempSync(join(TMP, "full-"));
    const plain = join(dir, "plain.nnspec");
    const linked = join(dir, "linked.nnspec");
    writeFileSync(plain, messy);
    writeFileSync(linked, messy);
    linkSync(linked, join(dir, "other-name.nnspec"));
    for (const f of [plain, linked]) {
      const r = await nnspecOnFullDisk(9, "fmt", f);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: cannot write .*\.nnspec: EFBIG: .*; nothing was written$/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readFileSync(f, "utf8")).toBe(messy);
    }
    expect(files(dir)).toEqual(["linked.nnspec", "other-name.nnspec", "plain.nnspec"]);
  });

  it("fmt on a hard link rewrites the file every name shares", async () => {
    const dir = mkdtempSync(join(TMP, "links-"));
    const a = join(dir, "a.nnspec");
    writeFileSync(a, messy);
    linkSync(a, join(dir, "b.nnspec"));
    const r = await nnspec("fmt", a);
    expect(r.code, r.stderr).toBe(0);
    const formatted = readFileSync(join(dir, "b.nnspec"), "utf8");
    expect(formatted).toBe(`model m(x: [4]) -> y {\n${"  dense 3\n".repeat(1000)}}\n`);
    expect(statSync(a).ino).toBe(statSync(join(dir, "b.nnspec")).ino);
    expect(statSync(a).nlink).toBe(2);
  });

  it("build and train say which file they could not write, exit 1, without a stack trace", async () => {
    const dir = mkdtempSync(join(TMP, "full-out-"));
    const build = await nnspecOnFullDisk(2, "build", "specs/iris.nnspec", "--target", "tfjs", "--out", join(dir, "gen"));
    expect(build.code, build.stderr).toBe(1);
    expect(build.stderr).toMatch(/^error: cannot write .*iris\.ts: EFBIG: .*nothing was written$/m);
    const train = await nnspecOnFullDisk(1, "train", "specs/iris.nnspec", "--out", join(dir, "model"), "--quiet");
    expect(train.code, train.stderr).toBe(1);
    expect(train.stderr).toMatch(/^error: cannot write .*iris_softmax: EFBIG: .*nothing was written$/m);
    for (const r of [build, train]) expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, "model")) ? readdirSync(join(dir, "model")) : []).toEqual([]);
  });
});

describe("fmt keeps links and permissions", () => {
  it("writes through a symlink to its target, keeps the file's mode, and reports a folder it cannot write", async () => {
    const { main } = await import("../src/cli/main.ts");
    const { chmodSync, lstatSync, mkdtempSync, readFileSync: read, rmSync, statSync, symlinkSync, writeFileSync: write } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "nnspec-fmt-"));
    const sink = () => {
      let s = "";
      return { w: { write: (x: string) => ((s += x), true) }, text: () => s };
    };
    try {
      const target = join(dir, "real.nnspec");
      write(target, "model m(x: [4]) -> y {\n    dense 3\n}\n");
      chmodSync(target, 0o600);
      const link = join(dir, "link.nnspec");
      symlinkSync(target, link);
      const e = sink();
      expect(await main(["fmt", link], { stdout: sink().w, stderr: e.w })).toBe(0);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(read(target, "utf8")).toBe("model m(x: [4]) -> y {\n  dense 3\n}\n");
      expect(statSync(target).mode & 0o777).toBe(0o600);
      if (process.getuid?.() !== 0) {
        // A folder it may not write into: an error naming the file, exit 1, the file as it was.
        const ro = join(dir, "ro");
        const { mkdirSync } = await import("node:fs");
        mkdirSync(ro);
        write(join(ro, "a.nnspec"), "model m(x: [4]) -> y {\n    dense 3\n}\n");
        chmodSync(ro, 0o555);
        const r = sink();
        expect(await main(["fmt", join(ro, "a.nnspec")], { stdout: sink().w, stderr: r.w })).toBe(1);
        expect(r.text()).toMatch(/error: cannot write .*a\.nnspec: .*nothing was written/);
        chmodSync(ro, 0o755);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
