import { existsSync, readdirSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { format } from "../src/format/printer.ts";
import type { DataDecl, SourceFile } from "../src/syntax/ast.ts";
import { FileHost } from "../src/node/host.ts";
import { parse } from "../src/syntax/parse.ts";
import { CATALOG } from "../src/diagnostics/catalog.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const specsDir = join(root, "specs");
/** Specs whose data nnspec does not ship (specs/data/README.md). */
const NOT_SHIPPED = new Set(["coffee_roasting.nnspec", "multilabel.nnspec", "phone_price.nnspec"]);

/** The course examples and feature tours that must be present. */
const EXPECTED = [
  "boston_linear.nnspec",
  "breast_cancer.nnspec",
  "coffee_roasting.nnspec",
  "diabetes.nnspec",
  "digits.nnspec",
  "dropout_batchnorm.nnspec",
  "fashion_cnn.nnspec",
  "iris.nnspec",
  "l2_comparison.nnspec",
  "lr_schedule.nnspec",
  "mnist_cnn.nnspec",
  "multilabel.nnspec",
  "optimizers.nnspec",
  "phone_price.nnspec",
  "residual.nnspec",
  "shared/models.nnspec",
  "shared_models.nnspec",
  "wine.nnspec",
];

/** Data files the specs read that are shipped in specs/data/. */
const SHIPPED_DATA = [
  "iris.csv",
  "wine_data.csv",
  "breast_cancer.csv",
  "boston_house_prices.csv",
  "digits.csv.gz",
  "diabetes_data_raw.csv.gz",
  "diabetes_target.csv.gz",
  "descr/iris.rst",
  "descr/wine_data.rst",
  "descr/breast_cancer.rst",
  "descr/digits.rst",
  "descr/diabetes.rst",
  "README.md",
];

/** Where Debian's data packages put the files some specs read: Fashion-MNIST, word lists, statsmodels' data sets. */
const DEBIAN_DATA = ["/usr/share/datasets/fashion-mnist/", "/usr/share/dict/", "/usr/lib/python3/dist-packages/statsmodels/datasets/"];

/** Relative data paths that the user brings (documented in specs/data/README.md). */
const USER_PROVIDED = new Set(["data/phone_price.csv", "data/coffee.csv", "data/multilabel.csv"]);

function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...specFiles(p));
    else if (e.name.endsWith(".nnspec")) out.push(p);
  }
  return out.sort();
}

/** The tree with every position removed, so two parses of differently laid-out text compare equal. */
function shape(ast: SourceFile): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object") {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (k !== "span") o[k] = strip(x);
      return o;
    }
    return v;
  };
  return { decls: strip(ast.decls), comments: ast.comments.map((c) => c.text.trimEnd()) };
}

const files = specFiles(specsDir);
const host = new FileHost();
const rel = (abs: string) => relative(specsDir, abs).split("\\").join("/");

describe("specs/", () => {
  it("holds every course example", () => {
    const found = new Set(files.map(rel));
    expect(EXPECTED.filter((f) => !found.has(f))).toEqual([]);
  });

  it("ships the data sets with their provenance", () => {
    expect(SHIPPED_DATA.filter((f) => !existsSync(join(specsDir, "data", f)))).toEqual([]);
  });

  describe.each(files.map((f) => [rel(f), f]))("%s", (name, abs) => {
    const checked = host.analyse(abs, relative(root, abs));

    it("parses and resolves with no errors or warnings", () => {
      // specs/data/README.md: these specs read data nnspec does not ship; check says it is not there yet.
      // Debian's data sets (Fashion-MNIST) are installed by .ci/run; elsewhere they may be absent.
      const debian = (d: { message: string }) => !process.env.CI && d.message.startsWith("/usr/share/datasets/");
      const unshipped = (d: { code: string; message: string }) => d.code === CATALOG.dataFileNotFound.code && (NOT_SHIPPED.has(name) || debian(d));
      const problems = checked.diagnostics.filter((d) => (d.severity === "error" || d.severity === "warning") && !unshipped(d)).map((d) => `${d.code} ${d.span.line}:${d.span.col} ${d.message}`);
      expect(problems).toEqual([]);
    });

    it("is canonically formatted, and formatting is idempotent and keeps the tree", () => {
      const once = format(checked.ast);
      expect(once).toBe(checked.text);
      const reparsed = parse(once, name);
      expect(reparsed.diagnostics).toEqual([]);
      expect(format(reparsed.ast)).toBe(once);
      expect(shape(reparsed.ast)).toEqual(shape(checked.ast));
    });

    it("reads data files that exist (or are documented as user-provided)", () => {
      const paths: string[] = [];
      for (const d of checked.ast.decls) {
        if (d.kind !== "data") continue;
        for (const s of (d as DataDecl).body) {
          if (s.head.name !== "from" && s.head.name !== "test_from") continue;
          for (const t of s.terms) {
            const isPath = !t.key || (t.key.kind === "name" && t.key.name === "labels");
            if (isPath && t.value.kind === "string") paths.push(t.value.value);
            if (isPath && t.value.kind === "list") for (const item of t.value.items) if (item.kind === "string") paths.push(item.value);
          }
        }
      }
      const missing = paths.filter((p) => !isAbsolute(p) && !USER_PROVIDED.has(p) && !existsSync(join(dirname(abs), p)));
      expect(missing).toEqual([]);
      // Absolute paths are only files of Debian packages (.ci/run installs them), never committed.
      expect(paths.filter((p) => isAbsolute(p) && !DEBIAN_DATA.some((dir) => p.startsWith(dir)))).toEqual([]);
    });
  });
});
