/**
 * `nnspec build --target pytorch`: per spec, a folder `<out>/<stem>/` (out defaults to
 * `generated/pytorch`) with `model.py`, `train.py`, and for each train block its prepared data
 * (`data/train-N/{train,val,test}_{x,y}.npy`, split and preprocessed by nnspec's own loader, so
 * PyTorch sees the interpreter's rows bit for bit) and its untrained model (`init/train-N/`: the
 * interpreter's initial weights, seeded per layer, saved as `nnspec train` saves a model, with the
 * fitted preprocessing; train.py writes its trained model in the same form). `<out>/nnspec_torch.py` is the helper they all import.
 */
import { readFileSync } from "node:fs";
import { join, relative, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { concreteModel, type ConcreteModel } from "../../check/concrete.ts";
import type { CheckedModel, TrainConfig } from "../../check/ir.ts";
import type { DataSpec } from "../../lang/program.ts";
import { decisionThreshold, taskOf } from "../../kinds/metrics/kernel.ts";
import { LOSSES } from "../../kinds/losses/index.ts";
import { HIGHER_IS_BETTER } from "../../kinds/metrics/index.ts";
import type { SplitData } from "../../data/index.ts";
import { runName, saveModel, type ValuedParam } from "../../saved/save.ts";
import { loadData } from "../../data/index.ts";
import { OPTIMIZERS, SCHEDULES } from "../../kinds/optimizers/index.ts";
import { pyLiteral, pyPartial } from "../../kinds/torch.ts";
import type { FileHost } from "../../node/host.ts";
import { sha256 } from "../../node/hash.ts";
import { initialValues } from "../../core/init.ts";
import { float32Bytes } from "../../core/kernel.ts";
import { buildWith, TargetError, type BuildResult, type BuiltFile } from "../build.ts";
import { commentText } from "../names.ts";
import { emitModelFile, emitTrainFile, fitLine, sourceText } from "./emit.ts";

export const HELPER = fileURLToPath(new URL("./nnspec_torch.py", import.meta.url));

/** A .npy file (format 1.0) of little-endian float32 values. */
export function npy(values: ArrayLike<number>, shape: number[]): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const pad = (64 - ((10 + dict.length + 1) % 64)) % 64;
  const header = `${dict}${" ".repeat(pad)}\n`;
  const out = new Uint8Array(10 + header.length + values.length * 4);
  out.set([0x93, ...Buffer.from("NUMPY"), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, "latin1"), 10);
  return float32Bytes([values], out, 10 + header.length);
}

/**
 * The model as the interpreter starts it: each declared parameter drawn by its initializer from the
 * seed's stream for it (src/core/init.ts, as RuntimeModel.initialize does).
 */
export function initialModel(m: CheckedModel, seed: number): ConcreteModel<ValuedParam> {
  const { model, errors } = concreteModel(m);
  if (!model) throw new TargetError(errors.join("; "));
  return {
    ...model,
    layers: model.layers.map((l) => ({
      ...l,
      params: l.params.map((p) => {
        const value = new Float32Array(p.shape.reduce((a, b) => a * b, 1));
        initialValues(value, p.id, p.shape, p.init, seed);
        return { ...p, value };
      }),
    })),
  };
}

/** A train block's data as nnspec's loader prepares it, and its untrained model as nnspec saves one. */
async function prepared(b: {
  data: DataSpec;
  cfg: TrainConfig;
  checked: CheckedModel;
  i: number;
  at: string;
  spec: string;
  stem: string;
  text: string;
  dir: string;
  init: string;
  specAbs: string;
}): Promise<BuiltFile[]> {
  const { data, diagnostics } = await loadData(b.data, b.specAbs);
  if (!data) throw new TargetError(`the data of the train block at ${b.at} did not load: ${diagnostics.map((d) => d.message).join("; ")}`);
  const files: BuiltFile[] = [];
  const write = (dir: string, part: string, s: SplitData) => {
    if (s.n === 0) return;
    files.push({ spec: b.spec, path: join(dir, `${part}_x.npy`), text: npy(s.x, [s.n, ...s.featureShape]) });
    files.push({ spec: b.spec, path: join(dir, `${part}_y.npy`), text: npy(s.y, [s.n, ...s.labelShape]) });
  };
  for (const part of ["train", "val", "test"] as const) write(b.dir, part, data[part]);
  // cross-validation: each fold's rows, preprocessed with the statistics fitted on its training part
  for (const [k, f] of (data.folds ?? []).entries()) {
    write(join(b.dir, `fold-${k + 1}`), "train", f.train);
    write(join(b.dir, `fold-${k + 1}`), "val", f.val);
  }
  // the untrained model as `nnspec train` would save it after 0 epochs: train.py starts from it
  // and writes its trained model in the same form
  const init = initialModel(b.checked, b.cfg.seed);
  const saved = saveModel(init, {
    spec: { file: b.spec, name: b.stem, sha256: sha256(b.text) },
    data: b.data.name,
    train: b.i + 1,
    config: b.cfg,
    epochs: 0,
    task: taskOf(b.cfg.loss.name, init.tensors[init.outputs[0]].shape),
    label: data.stats.label ?? data.label,
    classNames: data.classNames,
    preprocess: data.stats,
  });
  for (const [name, text] of Object.entries(saved)) files.push({ spec: b.spec, path: join(b.init, name), text });
  return files;
}

/**
 * `codeOnly`: model.py and train.py without the prepared data and untrained models (what the
 * repository keeps in generated/pytorch/; a full build of the spec prepares them).
 */
export async function buildPytorch(paths: string[], opts: { outRoot?: string; cwd?: string; host?: FileHost; codeOnly?: boolean } = {}): Promise<BuildResult> {
  const cwd = opts.cwd ?? process.cwd();
  const outRoot = resolvePath(cwd, opts.outRoot ?? join("generated", "pytorch"));
  const r = await buildWith(paths, { outRoot, cwd, host: opts.host }, async ({ path, stem, file }) => {
    const dir = join(outRoot, stem);
    const specAbs = resolvePath(cwd, path);
    const own = [...file.checked.models.values()].filter((m) => m.spec.file === file.checked.program.file);
    const trained = file.checked.trains.map((t) => (t.model ? file.checked.models.get(t.model.name) : undefined)).filter((m): m is CheckedModel => m !== undefined);
    const models = [...new Set([...own, ...trained])];
    const src = sourceText(file);
    let modelFile: { text: string };
    try {
      modelFile = emitModelFile(stem, models, src);
    } catch (e) {
      throw new TargetError((e as Error).message);
    }
    const files: BuiltFile[] = [{ spec: path, path: join(dir, "model.py"), text: modelFile.text }];
    const blocks: string[] = [];
    const schedules: string[] = [];
    for (const [i, t] of file.checked.trains.entries()) {
      const at = `line ${src.line(t.node.span.start)}`;
      const checked = t.model && file.checked.models.get(t.model.name);
      if (!t.config || !t.data || !checked) continue;
      const cfg = t.config;
      const schedule = cfg.schedule ? SCHEDULES.get(cfg.schedule.name) : undefined;
      const plateau = cfg.schedule?.name === "reduce_on_plateau";
      if (cfg.schedule && !plateau && !schedule?.torch) throw new TargetError(`the train block at ${at} uses \`${cfg.schedule.name}\`, which the PyTorch target does not run yet`);
      const folder = `train-${i + 1}`;
      const out = checked.outputs[0].shape.map((d) => d.value ?? 0);
      if (!opts.codeOnly) files.push(...(await prepared({ data: t.data, cfg, checked, i, at, spec: path, stem, text: file.text, dir: join(dir, "data", folder), init: join(dir, "init", folder), specAbs })));
      // the schedule's rate per epoch as a function (reduce_on_plateau: fit() drives the rate)
      const lrName = `lr_${i + 1}`;
      schedules.push(["", "", `def ${lrName}(base, e):`, ...fitLine(4, `return ${cfg.schedule && schedule?.torch ? schedule.torch(cfg.schedule.opts) : "base"}`)].join("\n"));
      const entries: [string, string][] = [
        ["model", pyLiteral(checked.spec.name)],
        ["folder", pyLiteral(folder)],
        ["run", pyLiteral(runName(file.checked.trains, i))],
        ["task", pyLiteral(taskOf(cfg.loss.name, out))],
        ["out", pyLiteral(out)],
        ["metrics", pyLiteral(cfg.metrics)],
        ["threshold", pyLiteral(decisionThreshold(cfg.loss.opts))],
        // the helper's loss function and update rule for these kinds, bound to their options
        ["loss", pyPartial(LOSSES.get(cfg.loss.name)!.torch, cfg.loss.opts)],
        ["optimizer", pyPartial(OPTIMIZERS.get(cfg.optimizer.name)!.torch, cfg.optimizer.opts)],
        ["lr", lrName],
        ["epochs", String(cfg.epochs)],
        ["batch", String(cfg.batch)],
        ["seed", String(cfg.seed)],
        ...(cfg.earlyStopping
          ? ([["early_stopping", pyLiteral({ monitor: cfg.earlyStopping.monitor, higher: HIGHER_IS_BETTER.has(cfg.earlyStopping.monitor.replace(/^val_/, "")), patience: cfg.earlyStopping.patience, min_delta: cfg.earlyStopping.minDelta, restore_best: cfg.earlyStopping.restoreBest })]] as [string, string][])
          : []),
        ...(plateau && cfg.schedule ? ([["plateau", pyLiteral({ factor: cfg.schedule.opts.factor, patience: cfg.schedule.opts.patience, min_lr: cfg.schedule.opts.min_lr })]] as [string, string][]) : []),
      ];
      blocks.push(
        [
          `    # ${commentText(`${at}: train ${checked.spec.name} on ${t.data.name}`)}`,
          "    {",
          ...entries.flatMap(([k, v]) => fitLine(8, `"${k}": ${v}`, ",")),
          "    },",
        ].join("\n"),
      );
    }
    files.push({ spec: path, path: join(dir, "train.py"), text: emitTrainFile(stem, relative(dir, specAbs), blocks, schedules) });
    return files;
  });
  if (r.files.length) r.files.push({ spec: "", path: join(outRoot, "nnspec_torch.py"), text: readFileSync(HELPER, "utf8") });
  return r;
}
