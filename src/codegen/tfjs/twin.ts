import * as tf from "@tensorflow/tfjs";
import { CUSTOM_LAYERS } from "./layers.ts";
import type { TfjsLayer } from "../../kinds/layers/types.ts";
import { unsupportedIn } from "../../kinds/layers/common.ts";
import { Dim, type Shape } from "../../core/dims.ts";
import type { CheckedModel } from "../../check/ir.ts";

/**
 * Builds a TensorFlow.js model from a checked model with each layer's `tfjs` mapping: one `tf.input`
 * per model input, the layers applied in order to the tensors they name, and the model's outputs.
 * Every tfjs layer is named after its nnspec layer (a `then` layer gets `<name>_then`), so
 * `model.getLayer(name)` finds it. Code generation writes out the same calls.
 *
 * It builds even a model the checker rejected, as far as the layers go, so that tests can compare
 * with what TensorFlow.js itself does; a layer the checker could not shape then gets the shapes of
 * its tfjs inputs. Throws whatever TensorFlow.js throws.
 */
export function buildTfjs(model: CheckedModel): tf.LayersModel {
  const tensors = new Map<string, tf.SymbolicTensor>();
  for (const i of model.spec.inputs) {
    const info = model.tensors.get(i.name);
    if (!info) throw new Error(`input \`${i.name}\` of model \`${model.spec.name}\` has no valid shape`);
    tensors.set(i.name, tf.input({ name: i.name, shape: tfjsShape(info.shape), dtype: i.dtype === "int" ? "int32" : "float32" }));
  }
  const checked = new Map(model.layers.map((l) => [l.spec.name, l]));
  let last: tf.SymbolicTensor | undefined;
  for (const l of model.spec.layers) {
    const ins = l.inputs.map((n) => tensors.get(n) ?? missing(n, l.name));
    if (ins.length === 0) throw new Error(`layer \`${l.name}\` has no input`);
    const inShapes = checked.get(l.name)?.inputShapes ?? ins.map(nnspecShape);
    let out: tf.SymbolicTensor | tf.SymbolicTensor[] = l.kind.inputs === "many" || ins.length > 1 ? ins : ins[0];
    let spec: TfjsLayer | undefined = l.kind.tfjs(l.options.full, inShapes);
    const why = unsupportedIn(spec);
    if (why) throw new Error(why);
    // a recurrent layer given states reads [x, h, c]; one with `return_state` returns [out, h, c]
    const states: tf.SymbolicTensor[] = [];
    for (let name = l.name; spec; spec = spec.then, name = `${name}_then`) {
      const r = makeLayer(spec, name).apply(out) as tf.SymbolicTensor | tf.SymbolicTensor[];
      if (Array.isArray(r) && l.more) states.push(...r.slice(1));
      out = Array.isArray(r) && l.more ? r[0] : r;
    }
    last = out as tf.SymbolicTensor;
    tensors.set(l.name, last);
    l.more?.forEach((name, k) => tensors.set(name, states[k] ?? missing(name, l.name)));
  }
  const outputs = model.spec.outputs.map((o) => tensors.get(o.name) ?? missing(o.name, "the outputs"));
  if (outputs.length === 0 && last) outputs.push(last);
  return tf.model({ name: model.spec.name, inputs: model.spec.inputs.map((i) => tensors.get(i.name)!), outputs });
}

/** `tf.layers[factory]({...config, name})`, or the helpers' class of that name. */
export function makeLayer(spec: TfjsLayer, name: string): tf.layers.Layer {
  if (spec.custom) {
    const Custom = CUSTOM_LAYERS[spec.factory];
    if (!Custom) throw new Error(`nnspec's TensorFlow.js helpers have no layer \`${spec.factory}\``);
    return new Custom({ ...spec.config, name } as never);
  }
  const factory = (tf.layers as unknown as Record<string, unknown>)[spec.factory];
  if (typeof factory !== "function") throw new Error(`TensorFlow.js has no layer \`tf.layers.${spec.factory}\``);
  const layer = spec.wraps ? { layer: makeLayer(spec.wraps, String(spec.wraps.config.name)) } : {};
  return (factory as (c: object) => tf.layers.Layer)({ ...spec.config, ...layer, name });
}

/** A per-example shape in TensorFlow.js form: a symbolic dimension is `null`. */
export function tfjsShape(s: Shape): (number | null)[] {
  return s.map((d) => d.value ?? null);
}

/** The per-example shape of a tfjs tensor, with unknown dimensions as the symbol `?`. */
function nnspecShape(t: tf.SymbolicTensor): Shape {
  return t.shape.slice(1).map((d) => (d === null ? Dim.sym("?") : Dim.of(d)));
}

function missing(name: string, where: string): never {
  throw new Error(`tensor \`${name}\` (read by ${where}) was not built`);
}
