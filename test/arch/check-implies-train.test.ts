/**
 * check ≡ training: for the course specs and seeded mutations of them (a column renamed in one
 * place, a width changed, a data file removed, an option or a statement dropped, a value changed),
 * whenever `check` reports no error, loading the data, lowering the model, checking it is
 * trainable, one epoch of training and code generation raise no user error. The one finding check
 * reports as a warning, a data file that is not there yet (NN0623), counts as reported.
 *
 * More cases: FC_RUNS=3000 npx vitest run test/arch/check-implies-train.test.ts (FC_SEED to reproduce).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emitModule } from "../../src/codegen/tfjs/emit.ts";
import { loadData } from "../../src/data/index.ts";
import { CATALOG } from "../../src/diagnostics/catalog.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { checkTrainable, train, trainConfig } from "../../src/runtime/train.ts";
import { analyse } from "../runtime/helpers.ts";

const RUNS = Number(process.env.FC_RUNS ?? 120);
const SEED = Number(process.env.FC_SEED ?? 20261205);

/** Course specs whose data ships with nnspec (specs/data). */
const SPECS = ["iris", "wine", "breast_cancer", "boston_linear", "diabetes", "digits", "residual", "lr_schedule", "optimizers", "l2_comparison", "dropout_batchnorm"].map((n) => ({
  name: n,
  text: readFileSync(resolve("specs", `${n}.nnspec`), "utf8"),
}));

type Mutation = (text: string, pick: (n: number) => number) => string;

const lines = (t: string) => t.split("\n");
/** Lines holding code (not blank, not only a comment). */
const codeLines = (t: string) => lines(t).flatMap((l, i) => (l.trim() && !/^\s*(#|\/\/)/.test(l) ? [i] : []));
const replaceLine = (t: string, i: number, f: (l: string) => string) => lines(t).map((l, k) => (k === i ? f(l) : l)).join("\n");

const MUTATIONS: Record<string, Mutation> = {
  renameColumn(t, pick) {
    // A name in a data statement, changed in this one place.
    const at = codeLines(t).filter((i) => /^\s*(columns|features|label|standardize|minmax|onehot|keep)\b/.test(lines(t)[i]));
    if (!at.length) return t;
    const i = at[pick(at.length)];
    return replaceLine(t, i, (l) => {
      const words = [...l.matchAll(/\b[a-z][a-z_0-9]*\b/g)].slice(1);
      if (!words.length) return l;
      const w = words[pick(words.length)];
      return l.slice(0, w.index!) + w[0] + "x" + l.slice(w.index! + w[0].length);
    });
  },
  changeWidth(t, pick) {
    const nums = [...t.matchAll(/(?<![\w.])\d+(?![\w.])/g)].filter((m) => !/^\s*(#|\/\/)/.test(t.slice(t.lastIndexOf("\n", m.index!) + 1, m.index!)));
    if (!nums.length) return t;
    const m = nums[pick(nums.length)];
    const v = [0, 1, 2, 3, 4, 7, 13, 64][pick(8)];
    return t.slice(0, m.index!) + String(v) + t.slice(m.index! + m[0].length);
  },
  removeFile(t) {
    return t.replace(/from "([^"]+)"/, 'from "$1.missing"');
  },
  dropOption(t, pick) {
    const opts = [...t.matchAll(/,?\s*\b[a-z_]+:\s*[^,\s)]+/g)];
    if (!opts.length) return t;
    const m = opts[pick(opts.length)];
    return t.slice(0, m.index!) + t.slice(m.index! + m[0].length);
  },
  dropStatement(t, pick) {
    const at = codeLines(t).filter((i) => /^\s+[a-z_]+/.test(lines(t)[i]));
    if (!at.length) return t;
    const i = at[pick(at.length)];
    return lines(t)
      .filter((_, k) => k !== i)
      .join("\n");
  },
  changeValue(t, pick) {
    const swaps: [RegExp, string][] = [
      [/class\((\d+)/, `class(${2 + pick(4)}`],
      [/skip: \d+/, `skip: ${pick(3)}`],
      [/header: (true|false)/, `header: ${pick(2) ? "true" : "false"}`],
      [/sparse_cross_entropy/, "cross_entropy"],
      [/\bmse\b/, "binary_cross_entropy"],
      [/: regression/, ": binary"],
      [/relu/, "softmax"],
      [/from_logits: true/, "from_logits: false"],
    ];
    const [re, to] = swaps[pick(swaps.length)];
    return t.replace(re, to);
  },
};

/** What training would reject as the user's mistake, or undefined when it all runs. */
async function trainingRejects(text: string): Promise<string | undefined> {
  const f = analyse(text);
  for (const t of f.checked.trains) {
    const checked = f.checked.models.get(t.model!.name)!;
    const cfg = { ...trainConfig(t, { epochs: 1 }) };
    const loaded = await loadData(t.data!, resolve("specs/inline.nnspec"));
    if (!loaded.data) return `loading ${t.data!.name}: ${loaded.diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`;
    const lowered = RuntimeModel.lower(checked, { seed: cfg.seed });
    if (!lowered.model) return `lowering ${checked.spec.name}: ${lowered.errors.join("; ")}`;
    const problems = checkTrainable(lowered.model, cfg, loaded.data);
    if (problems.length) return `training ${checked.spec.name}: ${problems.join("; ")}`;
    train(lowered.model, { train: loaded.data.train, val: loaded.data.val }, cfg);
  }
  try {
    emitModule({ specPath: "specs/inline.nnspec", source: () => text, checked: f.checked, runtimeImport: "r", helpersImport: "h", specDir: ".", runCommand: "run" });
  } catch (e) {
    return `code generation: ${(e as Error).message}`;
  }
  return undefined;
}

describe("check reports everything training would reject", () => {
  it("holds for the course specs as shipped", async () => {
    for (const s of SPECS) expect(await trainingRejects(s.text), s.name).toBeUndefined();
  });

  it(`holds for ${RUNS} seeded mutations of them`, async () => {
    const tally = { clean: 0, flagged: 0 };
    await fc.assert(
      fc.asyncProperty(fc.nat(SPECS.length - 1), fc.array(fc.constantFrom(...Object.keys(MUTATIONS)), { minLength: 1, maxLength: 2 }), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), async (s, ms, seeds) => {
        let k = 0;
        const pick = (n: number) => seeds[k++ % seeds.length] % n;
        let text = SPECS[s].text;
        for (const m of ms) text = MUTATIONS[m](text, pick);
        const f = analyse(text);
        const reported = f.diagnostics.some((d) => d.severity === "error" || d.code === CATALOG.dataFileNotFound.code);
        if (reported) {
          tally.flagged++;
          return;
        }
        tally.clean++;
        const why = await trainingRejects(text);
        if (why) throw new Error(`check passed ${SPECS[s].name} after ${ms.join(", ")}, but ${why}\n--- spec ---\n${text}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(`check ≡ training: ${RUNS} mutations, ${tally.clean} checked clean and trained, ${tally.flagged} reported by check`);
    expect(tally.clean).toBeGreaterThan(RUNS / 10);
  }, 600_000);
});
