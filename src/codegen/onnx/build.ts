/**
 * `nnspec build --target onnx`: every model of each spec as `<out>/<stem>/<model>.onnx` (out defaults
 * to `generated/onnx`) with the weights the interpreter starts from (its train block's seed, else 0).
 * `nnspec export --format onnx` writes a trained model instead.
 */
import { join, resolve as resolvePath } from "node:path";
import type { CheckedModel } from "../../check/ir.ts";
import type { FileHost, CheckedFile } from "../../node/host.ts";
import { buildWith, TargetError, type BuildResult } from "../build.ts";
import { initialModel } from "../pytorch/build.ts";
import { onnxModel, type OnnxOptions } from "./export.ts";

/** Each layer's line and source text in the file that declares it, for node names and docs. */
export function layerPlaces(file: CheckedFile, model: CheckedModel): OnnxOptions["where"] {
  // a model imported from another file has its lines there
  if (model.spec.file !== file.checked.program.file) return undefined;
  const at = new Map(
    model.layers
      .map((l) => {
        const line = file.lines.position(l.spec.node.span.start).line;
        return [l.spec.name, { line, text: `${file.path}:${line}: ${file.lines.lineText(line).trim()}` }] as const;
      }),
  );
  return (layer) => at.get(layer);
}

export async function buildOnnx(paths: string[], opts: { outRoot?: string; cwd?: string; host?: FileHost } = {}): Promise<BuildResult> {
  const cwd = opts.cwd ?? process.cwd();
  const outRoot = resolvePath(cwd, opts.outRoot ?? join("generated", "onnx"));
  return buildWith(paths, { outRoot, cwd, host: opts.host }, async ({ path, stem, file }) =>
    [...file.checked.models.values()]
      .filter((m) => m.spec.file === file.checked.program.file)
      .map((m) => {
        const seed = file.checked.trains.find((t) => t.model?.name === m.spec.name)?.config?.seed ?? 0;
        try {
          const bytes = onnxModel(initialModel(m, seed), { where: layerPlaces(file, m), metadata: { "nnspec.spec": path, "nnspec.model": m.spec.name, "nnspec.weights": `initial, seed ${seed}` } });
          return { spec: path, path: join(outRoot, stem, `${m.spec.name}.onnx`), text: bytes };
        } catch (e) {
          throw new TargetError(`model \`${m.spec.name}\`: ${(e as Error).message}`);
        }
      }),
  );
}
