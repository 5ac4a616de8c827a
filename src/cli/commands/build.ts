/** `nnspec build`: TensorFlow.js code, one module per spec. */
import { createRequire } from "node:module";
import { dirname as dirnamePath, relative as relativePath } from "node:path";
import { renderDiagnostic, renderSummary } from "../../diagnostics/render.ts";
import type { LineMap } from "../../diagnostics/span.ts";
import { args, UsageError, useColor, type Command, type Io } from "../common.ts";

export const command: Command = {
  name: "build",
  summary: "generate code: TensorFlow.js (one module per spec in OUT/<spec>/, default generated/), PyTorch (a package per spec, default generated/pytorch/) or ONNX (each model untrained, default generated/onnx/)",
  usage: "nnspec build FILE... --target tfjs|pytorch|onnx [--out|-o DIR] [--code-only] [--color|--no-color]",
  run: build,
};

/**
 * `build --target tfjs`: with any error in the specs (or anything TensorFlow.js cannot express)
 * reports it and writes nothing; else writes every module atomically (src/node/write.ts).
 */
async function build(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = args(argv, { target: { type: "string" }, out: { type: "string", short: "o" }, "code-only": { type: "boolean" }, color: { type: "boolean" }, "no-color": { type: "boolean" } });
  if (values.target !== "tfjs" && values.target !== "pytorch" && values.target !== "onnx")
    throw new UsageError(values.target === undefined ? "give the target: --target tfjs, pytorch or onnx" : `unknown target \`${values.target}\`; the targets are tfjs, pytorch and onnx`);
  if (positionals.length === 0) throw new UsageError("no files given");
  const { writeBuilt } = await import("../../codegen/build.ts");
  const outRoot = typeof values.out === "string" ? values.out : undefined;
  const codeOnly = values["code-only"] === true;
  if (codeOnly && values.target !== "pytorch") throw new UsageError("--code-only belongs to --target pytorch (a TensorFlow.js build is code only)");
  const r =
    values.target === "tfjs"
      ? await (await import("../../codegen/tfjs/build.ts")).buildSpecs(positionals, { outRoot })
      : values.target === "onnx"
        ? await (await import("../../codegen/onnx/build.ts")).buildOnnx(positionals, { outRoot })
        : await (await import("../../codegen/pytorch/build.ts")).buildPytorch(positionals, { outRoot, codeOnly });
  const color = useColor(io, values);
  const sources = new Map<string, LineMap>(r.checked.map((f) => [f.path, f.lines]));
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  for (const d of errors) io.stderr.write(renderDiagnostic(d, { color, sources }) + "\n\n");
  for (const e of r.errors) io.stderr.write(`error: ${e}\n`);
  if (errors.length || r.errors.length) {
    io.stderr.write(`${errors.length ? `${renderSummary(errors, color)}\n` : ""}nothing written\n`);
    return 1;
  }
  try {
    writeBuilt(r.files);
  } catch (e) {
    io.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
  for (const f of r.files) io.stderr.write(`wrote ${relativePath(process.cwd(), f.path)}\n`);
  if (values.target !== "tfjs") return 0;
  // Node finds packages in node_modules folders above the importing file: say so when the modules
  // were written where @tensorflow/tfjs cannot be found, before running them fails with less to go on.
  const lost = r.files.find((f) => {
    try {
      createRequire(f.path).resolve("@tensorflow/tfjs");
      return false;
    } catch {
      return true;
    }
  });
  if (lost) io.stderr.write(`note: ${relativePath(process.cwd(), dirnamePath(lost.path))} cannot import @tensorflow/tfjs (no node_modules above it holds it): run the code from a project that depends on @tensorflow/tfjs, or \`npm install @tensorflow/tfjs\` there\n`);
  return 0;
}
