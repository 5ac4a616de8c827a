import { resolve as resolvePath } from "node:path";
import { FileHost } from "../../src/node/host.ts";
import type { CheckedModel, CheckedTrain } from "../../src/check/ir.ts";

/** Analyses spec text (as if at specs/<name>) and returns the checked file. */
export function analyse(text: string, name = "inline.nnspec") {
  const host = new FileHost();
  const path = resolvePath("specs", name);
  return host.analyse(path, `specs/${name}`, text);
}

export function modelOf(text: string, model?: string): CheckedModel {
  const f = analyse(text);
  const errors = f.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) throw new Error(errors.map((d) => `${d.code} ${d.message}`).join("\n"));
  const m = model ? f.checked.models.get(model) : [...f.checked.models.values()][0];
  if (!m) throw new Error(`no model ${model}`);
  return m;
}

export function specFile(path: string) {
  const host = new FileHost();
  return host.analyse(resolvePath(path), path);
}

export function trainOf(path: string, index = 0): { train: CheckedTrain; model: CheckedModel } {
  const f = specFile(path);
  const train = f.checked.trains[index];
  return { train, model: f.checked.models.get(train.model!.name)! };
}

/** The bytes of a typed array's own values (its buffer may be the SIMD module's whole memory). */
export const bytesOf = (b: ArrayBufferView): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
