/**
 * `nnspec export FILE --model DIR --format onnx [--out FILE.onnx] [--with-preprocessing]`: a saved
 * model as an ONNX file. `--with-preprocessing` folds the fitted standardize / min-max / scale (and
 * the data block's reshape) into the graph, so the file takes the raw feature columns.
 */
import { onnxModel, RAW_INPUT } from "../../codegen/onnx/export.ts";
import { layerPlaces } from "../../codegen/onnx/build.ts";
import { args, usageFor, type Command, type Io } from "../common.ts";
import { openTarget, writeFileAtomic } from "../saved.ts";

export const EXPORT_USAGE = "nnspec export FILE --model DIR --format onnx [--out|-o FILE.onnx] [--with-preprocessing]";

async function exportCommand(argv: string[], io: Io): Promise<number> {
  const usage = usageFor(io, EXPORT_USAGE);
  let parsed;
  try {
    parsed = args(argv, { model: { type: "string" }, format: { type: "string" }, out: { type: "string", short: "o" }, "with-preprocessing": { type: "boolean" } });
  } catch (e) {
    return usage((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage(positionals.length ? "one spec file at a time" : "no file given");
  if (values.model === undefined) return usage("--model DIR is required: the folder `nnspec train` (or `nnspec import`) wrote");
  if (values.format === undefined) return usage("give the format: --format onnx");
  if (values.format !== "onnx") return usage(`unknown format \`${values.format}\`; the format is onnx`);
  const path = positionals[0];
  const dir = values.model;
  const error = (msg: string): number => (io.stderr.write(`error: ${msg}\n`), 1);

  const t = await openTarget(path, dir, io);
  if (!t) return 1;
  const meta = "raw" in t ? undefined : t.meta;
  const fold = values["with-preprocessing"] === true;
  if (fold && !meta) return error(`the model in ${dir} was imported and ${path} has no train block for it, so there is no preprocessing to fold in: add a data block and a train block, or export without --with-preprocessing`);
  const classes = meta?.classNames ?? meta?.preprocess.label?.classNames;
  let bytes: Uint8Array;
  try {
    bytes = onnxModel(t.model, {
      where: layerPlaces(t.file, t.checked),
      ...(fold ? { preprocess: meta!.preprocess } : {}),
      metadata: {
        "nnspec.spec": path,
        "nnspec.model": t.model.name,
        ...(meta ? { "nnspec.task": meta.task, "nnspec.epochs": String(meta.epochs) } : {}),
        ...(classes ? { "nnspec.classes": JSON.stringify(classes) } : {}),
        ...(fold ? { "nnspec.features": JSON.stringify(meta!.preprocess.features.map((f) => f.name)) } : {}),
      },
    });
  } catch (e) {
    return error(`${path}: model \`${t.model.name}\` cannot be exported to ONNX: ${(e as Error).message}`);
  }
  const out = values.out ?? `${t.model.name}.onnx`;
  const w = writeFileAtomic(out, bytes);
  if (!w.ok) return error(w.error);
  const inputs = fold ? `\`${RAW_INPUT}\` [batch, ${meta!.preprocess.features.length}] (raw ${meta!.preprocess.features.map((f) => f.name).join(", ")})` : t.model.inputs.map((i) => `\`${t.model.tensors[i].name}\` [batch, ${t.model.tensors[i].shape.join(", ")}]`).join(", ");
  io.stderr.write(`wrote ${out} (ONNX opset 17; input ${inputs}; output ${t.model.outputs.map((o) => `\`${t.model.tensors[o].name}\``).join(", ")})\n`);
  return 0;
}

export const command: Command = { name: "export", summary: "export a saved model as ONNX", usage: EXPORT_USAGE, run: exportCommand };
