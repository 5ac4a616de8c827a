/**
 * Differential test of the shape checker against TensorFlow.js: every model of specs/ and several
 * hundred random models (generated as spec TEXT and run through parse → resolve → check) are built
 * with `buildTfjs`; every layer's output shape, parameter count and trainable count must equal the
 * checker's, and a forward pass must produce the checked output shapes.
 *
 * The negative direction generates models the checker rejects with one shape error and records what
 * TensorFlow.js does with them. Where TensorFlow.js does not throw, the test pins that down too:
 *
 * - NN0302 (a valid-padding window larger than its input): tfjs computes the same size, zero or
 *   negative, and builds the model. Running it on the cpu backend returns an empty tensor for a size
 *   of 0, and for a negative size either a tensor with a negative dimension or "Invalid typed array
 *   length", by the sign of the element count. The checker rejects it because it is always a mistake.
 * - NN0303 on `add` with shapes that broadcast ([4, 1] + [4, 8], or [8] + [4, 8]): tfjs's Add
 *   broadcasts like numpy. nnspec requires identical shapes, so a residual connection of the wrong
 *   width is reported instead of silently broadcast.
 * - NN0304 (a reshape that changes the element count): tfjs builds the model and throws only when it
 *   runs ("Total size of new array must be unchanged").
 * - NN0305 (declared output shape differs): a tfjs model has no declared output shape; the checker's
 *   computed shape is what tfjs builds, and the mismatch would surface only against the labels.
 * - NN0308 (stride and dilation both above 1; softmax over a non-last axis): tfjs builds and throws
 *   when run ("Either strides or dilations must be 1", "Softmax along a non-last dimension is not yet
 *   supported").
 * - NN0308 on `concat` with axis 0 or -(rank + 1), the batch axis: tfjs concatenates the batches.
 *   nnspec shapes are per example, so the batch axis cannot be joined. With axis rank + 1, one past
 *   the last, tfjs builds a shape with an extra unknown axis and then joins the last axis when run.
 *
 * Run with more cases: FC_RUNS=2000 npx vitest run test/tfjs-shapes.test.ts (FC_SEED to reproduce).
 */
import * as tf from "@tensorflow/tfjs";
import fc from "fast-check";
import { readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { check } from "../src/check/index.ts";
import type { CheckedModel } from "../src/check/ir.ts";
import { buildTfjs, tfjsShape } from "../src/codegen/tfjs/twin.ts";
import { DiagnosticSink, type Diagnostic } from "../src/diagnostics/diagnostic.ts";
import { resolve as resolveProgram } from "../src/lang/resolve.ts";
import { LAYERS } from "../src/kinds/layers/registry.ts";
import { FileHost } from "../src/node/host.ts";
import { parse } from "../src/syntax/parse.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Number(process.env.FC_RUNS ?? 400);
const NEGATIVE_RUNS = Number(process.env.FC_NEGATIVE_RUNS ?? Math.ceil(RUNS / 2));
const SEED = Number(process.env.FC_SEED ?? 20240611);

beforeAll(async () => {
  await tf.setBackend("cpu");
});
afterAll(() => {
  tf.disposeVariables();
});

// ── the front end on spec text ──

function front(text: string): { model?: CheckedModel; diagnostics: Diagnostic[] } {
  const parsed = parse(text, "gen.nnspec");
  const sink = new DiagnosticSink("gen.nnspec");
  const checked = check(resolveProgram(parsed.ast, sink), sink);
  return { model: checked.models.get("m"), diagnostics: [...parsed.diagnostics, ...sink.items] };
}

const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
const size = (v: tf.LayerVariable): number => product(v.shape as number[]);

/** The tfjs layers built for one nnspec layer: itself and its `then` layers. */
function tfjsLayersOf(m: tf.LayersModel, name: string): tf.layers.Layer[] {
  const out = [m.getLayer(name)];
  for (let n = `${name}_then`; m.layers.some((l) => l.name === n); n += "_then") out.push(m.getLayer(n));
  return out;
}

/** Builds the checked model in tfjs, compares every layer, runs it once, and disposes of it. */
function compareWithTfjs(model: CheckedModel, label: string): void {
  const tm = buildTfjs(model);
  try {
    let total = 0;
    let trainable = 0;
    for (const l of model.layers) {
      const where = `${label}: layer ${l.spec.name} (${l.spec.kind.name})`;
      const built = tfjsLayersOf(tm, l.spec.name);
      const last = built[built.length - 1];
      expect((last.outputShape as (number | null)[]).slice(1), where).toEqual(tfjsShape(l.output));
      expect(l.params, `${where}: parameters are known`).toBeDefined();
      const p = l.params!;
      expect(built.reduce((a, b) => a + b.countParams(), 0), `${where}: parameters`).toBe(p.trainable + p.nonTrainable);
      expect(built.reduce((a, b) => a + b.trainableWeights.reduce((s, w) => s + size(w), 0), 0), `${where}: trainable parameters`).toBe(p.trainable);
      total += p.trainable + p.nonTrainable;
      trainable += p.trainable;
    }
    expect(tm.countParams(), `${label}: countParams`).toBe(total);
    expect(tm.trainableWeights.reduce((s, w) => s + size(w), 0), `${label}: trainable weights`).toBe(trainable);
    // A forward pass on zeros: the real output shapes (symbolic dimensions given the value 64).
    const batch = 2;
    tf.tidy(() => {
      const xs = model.inputs.map((i) => tf.zeros([batch, ...tfjsShape(i.shape).map((d) => d ?? 64)], i.dtype === "int" ? "int32" : "float32"));
      const ys = tm.predict(xs.length === 1 ? xs[0] : xs) as tf.Tensor | tf.Tensor[];
      const got = (Array.isArray(ys) ? ys : [ys]).map((y) => y.shape.slice(1));
      const want = model.outputs.map((o) => tfjsShape(o.shape));
      expect(got.length, `${label}: outputs`).toBe(want.length);
      want.forEach((w, i) => w.forEach((d, j) => d !== null && expect(got[i][j], `${label}: output ${i} axis ${j}`).toBe(d)));
    });
  } finally {
    tm.dispose();
  }
}

// ── the course specs ──

function specFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? specFiles(join(dir, e.name)) : e.name.endsWith(".nnspec") ? [join(dir, e.name)] : []));
}

describe("the course specs build in TensorFlow.js with the checker's shapes and parameter counts", () => {
  const host = new FileHost();
  for (const file of specFiles(join(root, "specs"))) {
    const shown = relative(root, file);
    it(shown, () => {
      const r = host.analyse(file, shown);
      expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      for (const [name, m] of r.checked.models) {
        expect(m.complete).toBe(true);
        if (m.inputs.some((i) => i.shape.some((d) => !d.isKnown))) continue; // concrete dims only
        compareWithTfjs(m, `${shown}: ${name}`);
      }
    });
  }
});

// ── the random model generator ──

/** Random choices drawn from fast-check, so failures shrink and replay by seed. */
interface Rand {
  int(min: number, max: number): number;
  bool(p?: number): boolean;
  pick<T>(xs: readonly T[]): T;
}
function rand(g: fc.GeneratorValue): Rand {
  const int = (min: number, max: number): number => (max <= min ? min : g(fc.integer, { min, max }));
  return { int, bool: (p = 0.5) => int(0, 999) < p * 1000, pick: (xs) => xs[int(0, xs.length - 1)] };
}

/** A tensor as the generator sees it: a per-example shape with null for a symbolic dimension. */
interface T {
  name: string;
  shape: (number | null)[];
}

const ACTS = ["relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softmax", "linear"] as const;
const list = (xs: number[], r: Rand): string => (xs.every((x) => x === xs[0]) && r.bool(0.6) ? String(xs[0]) : `[${xs.join(", ")}]`);
/** Output length of a window exactly as TensorFlow.js's convOutputLength computes it. */
function windowOut(n: number | null, k: number, s: number, d: number, pad: string): number | null {
  if (n === null) return null;
  const eff = (k - 1) * d + 1;
  return Math.floor(((pad === "same" ? n : n - eff + 1) + s - 1) / s);
}

/** Writes a random model as spec text, keeping track of shapes to choose valid options. */
class Gen {
  readonly lines: string[] = [];
  private n = 0;
  constructor(
    readonly r: Rand,
    /** Whether the main input has a symbolic first axis (no flatten, reshape or joins over it). */
    readonly symbolic = false,
  ) {}

  emit(from: string, layer: string, shape: (number | null)[]): T {
    const name = `t${++this.n}`;
    this.lines.push(`  ${name} = ${from} -> ${layer}`);
    return { name, shape };
  }
  merge(kind: string, names: string[], extra: string, shape: (number | null)[]): T {
    const name = `t${++this.n}`;
    this.lines.push(`  ${name} = ${kind} ${names.join(", ")}${extra}`);
    return { name, shape };
  }

  activation(): string {
    const r = this.r;
    switch (r.int(0, 9)) {
      case 0:
        return "";
      case 1:
        return ` activation: leaky_relu(${r.pick([0.1, 0.2])})`;
      case 2:
        return ` activation: elu(${r.pick(["1", "alpha: 1"])})`; // tfjs has alpha 1 only
      case 3:
        return ` activation: ${r.pick(ACTS)}`;
      default:
        return ` ${r.pick(ACTS)}`;
    }
  }
  weighted(): string {
    const r = this.r;
    let s = this.activation();
    if (r.bool(0.2)) s += " use_bias: false";
    if (r.bool(0.15)) s += " trainable: false";
    if (r.bool(0.1)) s += ` l2: 0.01`;
    if (r.bool(0.05)) s += ` l1: 0.001`;
    if (r.bool(0.1)) s += ` kernel_init: ${r.pick(["he_normal", "lecun_uniform", "zeros", "random_normal"])}`;
    return s;
  }

  dense(t: T, units = this.r.int(1, 12)): T {
    return this.emit(t.name, `dense ${units}${this.weighted()}`, [...t.shape.slice(0, -1), units]);
  }
  /** A recurrent layer over a [steps, features] tensor, with a random mix of its options. */
  recurrent(t: T): T {
    const r = this.r;
    const cell = r.pick(["simple_rnn", "lstm", "gru"] as const);
    const units = r.int(1, 10);
    const seq = r.bool();
    const opts = [
      seq ? " return_sequences: true" : "",
      r.bool(0.3) ? " go_backwards: true" : "",
      r.bool(0.2) ? " use_bias: false" : "",
      r.bool(0.2) ? ` activation: ${r.pick(["relu", "sigmoid", "linear", "hard_sigmoid"])}` : "",
      cell !== "simple_rnn" && r.bool(0.2) ? " recurrent_activation: hard_sigmoid" : "",
      cell === "lstm" && r.bool(0.2) ? " unit_forget_bias: false" : "",
      r.bool(0.15) ? " trainable: false" : "",
      r.bool(0.15) ? " l2: 0.01" : "",
      r.bool(0.15) ? " dropout: 0.2 recurrent_dropout: 0.1" : "",
    ].join("");
    const merge = r.bool(0.3) ? r.pick(["concat", "sum", "mul", "ave"]) : undefined;
    const width = merge === "concat" ? 2 * units : units;
    return this.emit(t.name, `${cell} ${units}${opts}${merge ? ` bidirectional: ${merge}` : ""}`, seq ? [t.shape[0], width] : [width]);
  }
  /** Self-attention over a [steps, features] tensor, with a random mix of its options. */
  attention(t: T): T {
    const r = this.r;
    const out = r.bool(0.3) ? r.int(1, 9) : (t.shape[1] as number);
    const opts = [
      ` heads: ${r.int(1, 4)}, key_dim: ${r.int(1, 6)}`,
      r.bool(0.3) ? ` value_dim: ${r.int(1, 6)}` : "",
      out !== t.shape[1] ? ` output_dim: ${out}` : "",
      r.bool(0.3) ? " causal: true" : "",
      r.bool(0.2) ? " use_bias: false" : "",
      r.bool(0.2) ? " dropout: 0.1" : "",
      r.bool(0.15) ? " trainable: false" : "",
    ].join("");
    return this.emit(t.name, `multi_head_attention${opts}`, [t.shape[0], out]);
  }
  conv(t: T, axes: number, opts: { filters?: number; keep?: boolean } = {}): T {
    const r = this.r;
    const filters = opts.filters ?? r.int(1, 8);
    const pad = opts.keep ? "same" : r.pick(["valid", "same"]);
    const mode = opts.keep ? "plain" : r.pick(["plain", "plain", "stride", "dilation"]);
    const k: number[] = [];
    const st: number[] = [];
    const dl: number[] = [];
    const out: (number | null)[] = [];
    for (let i = 0; i < axes; i++) {
      const n = t.shape[i];
      const room = pad === "valid" ? (n ?? 3) : 5;
      k.push(r.int(1, Math.min(5, room)));
      st.push(mode === "stride" ? r.int(1, 3) : 1);
      dl.push(mode === "dilation" ? r.int(1, k[i] > 1 ? Math.min(3, Math.max(1, Math.floor((room - 1) / (k[i] - 1)))) : 3) : 1);
      out.push(windowOut(n, k[i], st[i], dl[i], pad));
    }
    let text = `conv${axes}d ${filters} kernel: ${list(k, r)}`;
    if (pad === "same" || r.bool(0.2)) text += ` padding: ${pad}`;
    if (st.some((x) => x > 1) || r.bool(0.1)) text += ` stride: ${list(st, r)}`;
    if (dl.some((x) => x > 1) || r.bool(0.1)) text += ` dilation: ${list(dl, r)}`;
    return this.emit(t.name, text + this.weighted(), [...out, filters]);
  }
  pool(t: T, axes: number): T {
    const r = this.r;
    const pad = r.pick(["valid", "same"]);
    const p: number[] = [];
    const out: (number | null)[] = [];
    const strided = r.bool(0.4);
    const st: number[] = [];
    for (let i = 0; i < axes; i++) {
      const n = t.shape[i];
      p.push(r.int(1, Math.min(4, pad === "valid" ? (n ?? 3) : 4)));
      st.push(strided ? r.int(1, 3) : p[i]);
      out.push(windowOut(n, p[i], st[i], 1, pad));
    }
    let text = `${r.pick(["max", "avg"])}pool${axes}d`;
    text += r.bool(0.3) ? ` pool: ${list(p, r)}` : ` ${list(p, r)}`;
    if (strided) text += ` stride: ${list(st, r)}`;
    if (pad === "same" || r.bool(0.2)) text += ` padding: ${pad}`;
    return this.emit(t.name, text, [...out, t.shape[axes]]);
  }
  globalPool(t: T): T {
    const axes = t.shape.length - 1;
    return this.emit(t.name, `global_${this.r.pick(["max", "avg"])}pool${axes}d`, [t.shape[axes]]);
  }
  norm(t: T): T {
    const r = this.r;
    let text = r.bool() ? "batchnorm" : "layernorm";
    if (r.bool(0.3)) text += " center: false";
    if (r.bool(0.3)) text += " scale: false";
    if (text.startsWith("batchnorm") && r.bool(0.2)) text += " momentum: 0.9";
    if (r.bool(0.2)) text += " epsilon: 0.0001";
    if (r.bool(0.15)) text += " trainable: false";
    return this.emit(t.name, text, t.shape);
  }
  /** A layer that keeps the shape: an activation, dropout or normalization. */
  same(t: T): T {
    const r = this.r;
    switch (r.int(0, 9)) {
      case 0:
        return this.emit(t.name, `dropout ${r.pick([0, 0.1, 0.5])}${r.bool(0.2) ? " seed: 3" : ""}`, t.shape);
      case 1:
        return this.emit(t.name, `leaky_relu${r.pick(["", " 0.2", " alpha: 0.1"])}`, t.shape);
      case 2:
        return this.emit(t.name, `elu${r.pick(["", " 1", " alpha: 1"])}`, t.shape);
      case 3:
        return this.emit(t.name, `softmax${r.pick(["", " axis: -1", ` axis: ${t.shape.length}`])}`, t.shape);
      case 4:
      case 5:
        return t.shape[t.shape.length - 1] === null ? this.emit(t.name, "relu", t.shape) : this.norm(t);
      default:
        return this.emit(t.name, r.pick(["relu", "gelu", "sigmoid", "tanh", "linear"]), t.shape);
    }
  }
  flatten(t: T): T {
    return this.emit(t.name, "flatten", [t.shape.some((d) => d === null) ? null : product(t.shape as number[])]);
  }
  reshape(t: T): T {
    const r = this.r;
    let left = product(t.shape as number[]);
    const dims: number[] = [];
    const rank = r.int(1, 3);
    for (let i = 0; i < rank - 1; i++) {
      const divisors = [...Array(Math.min(left, 12)).keys()].map((x) => x + 1).filter((d) => left % d === 0);
      const d = r.pick(divisors);
      dims.push(d);
      left /= d;
    }
    dims.splice(r.int(0, dims.length), 0, left);
    const target = dims.map(String);
    if (r.bool(0.5)) target[r.int(0, target.length - 1)] = "-1";
    return this.emit(t.name, `reshape [${target.join(", ")}]`, dims);
  }
  /** `add t, branch`: the branch keeps t's shape. */
  residual(t: T): T {
    const r = this.r;
    const rank = t.shape.length;
    const c = t.shape[rank - 1];
    const branch = (): T => (c !== null && r.bool(0.5) ? (rank <= 3 && rank >= 2 && r.bool(0.4) ? this.conv(t, rank - 1, { filters: c, keep: true }) : this.dense(t, c)) : this.same(t));
    const b = branch();
    const names = r.bool(0.2) ? [t.name, b.name, branch().name] : r.bool() ? [t.name, b.name] : [b.name, t.name];
    return this.merge("add", names, "", t.shape);
  }
  /** `concat t, branch` along a random axis. */
  join(t: T): T {
    const r = this.r;
    const rank = t.shape.length;
    const axis = this.symbolic ? rank - 1 : r.int(0, rank - 1);
    // The axis counts the batch as 0; -1 (the default) is the last.
    const text = axis === rank - 1 && r.bool(0.3) ? "" : ` axis: ${r.bool() ? axis + 1 : axis - rank}`;
    const b = axis === rank - 1 && t.shape[rank - 1] !== null && r.bool(0.7) ? this.dense(t) : this.same(t);
    const shape = t.shape.map((d, i) => (i !== axis ? d : d === null || b.shape[i] === null ? null : d + b.shape[i]!));
    return this.merge("concat", r.bool() ? [t.name, b.name] : [b.name, t.name], text, shape);
  }

  /** One random step from a tensor of any rank. */
  step(t: T): T {
    const r = this.r;
    const rank = t.shape.length;
    const known = t.shape.every((d) => d !== null);
    const ops: (() => T)[] = [() => this.same(t), () => this.residual(t), () => this.join(t)];
    if (t.shape[rank - 1] !== null) ops.push(() => this.dense(t), () => this.dense(t));
    if (rank === 3 || rank === 2) ops.push(() => this.conv(t, rank - 1), () => this.conv(t, rank - 1), () => this.pool(t, rank - 1), () => this.globalPool(t));
    if (rank === 2 && t.shape[1] !== null) ops.push(() => this.recurrent(t), () => this.attention(t));
    if (rank === 2 && known) ops.push(() => this.emit(t.name, `positional_embedding${this.r.pick(["", " sinusoidal", " trainable: false", " mode: sinusoidal max_wavelength: 100"])}`, t.shape));
    if (known && product(t.shape as number[]) <= 4096) ops.push(() => this.reshape(t), () => this.flatten(t));
    return r.pick(ops)();
  }
  /** To rank 1, for joining inputs and for the heads. */
  toVector(t: T): T {
    if (t.shape.length === 1) return t;
    if (this.symbolic || this.r.bool(0.4)) return this.globalPool(t);
    return this.flatten(t);
  }
}

/** A random valid model `m` as spec text. */
function randomModel(r: Rand): string {
  const kind = r.pick(["image", "image", "seq", "vec", "ids", "ids2", "symbolic"] as const);
  const g = new Gen(r, kind === "symbolic");
  const inputs: string[] = [];
  let t: T;
  const dim = (lo: number, hi: number) => r.int(lo, hi);
  switch (kind) {
    case "image": {
      const s = [dim(1, 12), dim(1, 12), dim(1, 4)];
      inputs.push(`x: [${s.join(", ")}]`);
      t = { name: "x", shape: s };
      break;
    }
    case "seq":
    case "symbolic": {
      const s = [kind === "symbolic" ? null : dim(1, 16), dim(1, 6)];
      inputs.push(`x: [${s.map((d) => d ?? "steps").join(", ")}]`);
      t = { name: "x", shape: s };
      break;
    }
    case "vec": {
      const s = [dim(1, 24)];
      inputs.push(`x: [${s[0]}]`);
      t = { name: "x", shape: s };
      break;
    }
    default: {
      const s = kind === "ids" ? [dim(1, 12)] : [dim(1, 8), dim(1, 8)];
      inputs.push(`ids: int[${s.join(", ")}]`);
      const width = dim(1, 8);
      t = g.emit("ids", `embedding ${dim(2, 50)} ${width}${r.bool(0.2) ? " trainable: false" : ""}${r.bool(0.1) ? " init: glorot_uniform" : ""}`, [...s, width]);
    }
  }
  const steps = r.int(0, 6);
  for (let i = 0; i < steps; i++) t = g.step(t);
  // A second input, joined after both are vectors.
  if (r.bool(0.25)) {
    t = g.toVector(t);
    let side: T;
    if (r.bool()) {
      const n = dim(1, 8);
      inputs.push(`y: [${n}]`);
      side = r.bool() ? g.dense({ name: "y", shape: [n] }) : { name: "y", shape: [n] };
    } else {
      const [n, width] = [dim(1, 6), dim(1, 6)];
      inputs.push(`tokens: int[${n}]`);
      side = g.globalPool(g.emit("tokens", `embedding ${dim(2, 20)} ${width}`, [n, width]));
    }
    t = g.merge("concat", r.bool() ? [t.name, side.name] : [side.name, t.name], "", [t.shape[0]! + side.shape[0]!]);
  }
  const heads: T[] = [];
  if (r.bool(0.3)) {
    const v = g.toVector(t);
    heads.push(g.dense(v), g.dense(v, 1));
  } else if (t.name === "x" || t.name === "ids" || t.shape[t.shape.length - 1] === null || r.bool(0.3)) {
    heads.push(g.dense(t.shape[t.shape.length - 1] === null ? g.toVector(t) : t));
  } else heads.push(t);
  const out = heads.map((h) => (r.bool(0.3) && h.shape.every((d) => d !== null) ? `${h.name}: [${h.shape.join(", ")}]` : h.name));
  return `model m(${inputs.join(", ")}) -> ${out.length === 1 ? out[0] : `(${out.join(", ")})`} {\n${g.lines.join("\n")}\n}\n`;
}

describe("random valid models build in TensorFlow.js with the checker's shapes and parameter counts", () => {
  it(`${RUNS} random models`, () => {
    let accepted = 0;
    const rejected: string[] = [];
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(fc.gen(), (gen) => {
        const text = randomModel(rand(gen));
        const { model, diagnostics: all } = front(text);
        const diagnostics = all.filter((d) => d.severity === "error"); // lints may warn about odd models
        if (diagnostics.length > 0 || !model?.complete) {
          rejected.push(`${text}${diagnostics.map((d) => `  ${d.code} ${d.message}`).join("\n")}`);
          return;
        }
        accepted++;
        for (const l of model.layers) kinds.set(l.spec.kind.name, (kinds.get(l.spec.kind.name) ?? 0) + 1);
        try {
          compareWithTfjs(model, "random model");
        } catch (e) {
          throw new Error(`${(e as Error).message}\n\n${text}`);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.info(
      `tfjs differential: ${accepted} random models accepted by the checker and compared, ${rejected.length} generated models rejected; layers: ${[...kinds].sort(([, a], [, b]) => b - a).map(([k, n]) => `${k} ${n}`).join(", ")}`,
    );
    // Every layer kind is exercised.
    expect([...kinds.keys()].sort()).toEqual([...LAYERS.keys()].filter((k) => RUNS >= 200 || kinds.has(k)).sort());
    // The generator aims at valid models: a rejection is a disagreement between its tfjs formulas and the checker.
    expect(rejected, rejected.slice(0, 3).join("\n\n")).toEqual([]);
    expect(accepted).toBe(RUNS);
  });
});

// ── the negative direction: models the checker rejects ──

type Outcome = "build-throws" | "run-throws" | "accepts";
interface Rejected {
  text: string;
  /** The one error code the checker must report. */
  code: string;
  fault: string;
  /** What TensorFlow.js may do with the model. */
  expect: Outcome | Outcome[];
  /** When tfjs accepts: what its output shape must be ("the checker's size", or an exact shape). */
  shape?: (number | null)[];
}

/** numpy broadcasting of two per-example shapes (the batch axes agree). */
function broadcasts(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i];
    const y = b[b.length - i];
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

/** A random model whose last layer `bad` (or declared output) has one shape error. */
function randomRejected(r: Rand): Rejected {
  const g = new Gen(r);
  const kind = r.pick(["image", "seq", "vec", "ids"] as const);
  const dim = (lo: number, hi: number) => r.int(lo, hi);
  let input: string;
  let t: T;
  if (kind === "ids") {
    const s = [dim(1, 8)];
    input = `ids: int[${s[0]}]`;
    const width = dim(1, 6);
    t = g.emit("ids", `embedding ${dim(2, 30)} ${width}`, [...s, width]);
  } else {
    const s = kind === "image" ? [dim(1, 10), dim(1, 10), dim(1, 3)] : kind === "seq" ? [dim(1, 12), dim(1, 4)] : [dim(1, 16)];
    input = `x: [${s.join(", ")}]`;
    t = { name: "x", shape: s };
  }
  for (let i = r.int(0, 3); i > 0; i--) t = g.step(t);
  const rank = t.shape.length;
  const s = t.shape as number[];
  const model = (last: string, out = "bad") => `model m(${input}) -> ${out} {\n${[...g.lines, last].join("\n")}\n}\n`;
  const spatial = rank === 2 || rank === 3;
  const faults = ["rank", "add", "concat", "reshape", "output", "softmax-axis", "concat-batch", "concat-range", ...(spatial ? ["window", "window", "stride-dilation"] : [])];
  const fault = r.pick(faults);
  switch (fault) {
    case "rank": {
      const layer = r.pick(["conv2d 2 kernel: 1", "maxpool2d 1", "avgpool2d 1", "global_maxpool2d", "global_avgpool2d", "conv1d 2 kernel: 1", "maxpool1d 1", "avgpool1d 1", "global_maxpool1d", "global_avgpool1d"].filter((l) => !l.includes(`${rank - 1}d`)));
      return { text: model(`  bad = ${t.name} -> ${layer}`), code: "NN0301", fault, expect: "build-throws" };
    }
    case "window": {
      const axes = rank - 1;
      const axis = r.int(0, axes - 1);
      const k = s.slice(0, axes).map((n, i) => (i === axis ? n + r.int(1, 3) : 1));
      const layer = r.bool() ? `conv${axes}d 2 kernel: [${k.join(", ")}]` : `${r.pick(["max", "avg"])}pool${axes}d [${k.join(", ")}] stride: 1`;
      const out = s.slice(0, axes).map((n, i) => n - k[i] + 1);
      // tfjs builds it; running it returns an empty tensor for a size of 0 and, for a negative size,
      // a tensor with a negative dimension or "Invalid typed array length", by the sign of the product.
      return { text: model(`  bad = ${t.name} -> ${layer}`), code: "NN0302", fault, expect: ["accepts", "run-throws"], shape: [...out, layer.startsWith("conv") ? 2 : s[axes]] };
    }
    case "add": {
      const b = s[rank - 1] > 1 && r.bool(0.3) ? g.emit(t.name, "reshape [-1, 1]", [product(s), 1]) : r.bool() || rank === 1 ? g.dense(t, s[rank - 1] + r.int(1, 3)) : g.flatten(t);
      if (b.shape.length === t.shape.length && b.shape.every((d, i) => d === t.shape[i])) return randomRejected(r);
      const ok = broadcasts(t.shape, b.shape);
      const out = ok ? Array.from({ length: Math.max(rank, b.shape.length) }, (_, i) => Math.max(t.shape[rank - 1 - i] ?? 1, b.shape[b.shape.length - 1 - i] ?? 1)).reverse() : undefined;
      return { text: model(`  bad = add ${t.name}, ${b.name}`), code: "NN0303", fault: ok ? "add (broadcastable)" : "add", expect: ok ? "accepts" : "build-throws", shape: out };
    }
    case "concat": {
      // Same rank but another size off the joined axis, or another rank.
      const b = spatial && s[0] > 1 && r.bool() ? g.pool({ ...t, shape: t.shape }, rank - 1) : g.emit(t.name, `reshape [${[...s, 1].join(", ")}]`, [...s, 1]);
      if (b.shape.length === rank && b.shape.slice(0, -1).every((d, i) => d === t.shape[i])) return randomRejected(r);
      return { text: model(`  bad = concat ${t.name}, ${b.name}`), code: "NN0303", fault, expect: "build-throws" };
    }
    case "reshape": {
      const have = product(s);
      const target = r.bool() ? [have + r.int(1, 5)] : have % 7 === 0 ? [have + 1] : [7, -1];
      return { text: model(`  bad = ${t.name} -> reshape [${target.join(", ")}]`), code: "NN0304", fault, expect: "run-throws" };
    }
    case "output": {
      const units = r.int(1, 6);
      const declared = [...s.slice(0, -1), units + r.int(1, 3)];
      return { text: model(`  bad = ${t.name} -> dense ${units}`, `bad: [${declared.join(", ")}]`), code: "NN0305", fault, expect: "accepts", shape: [...s.slice(0, -1), units] };
    }
    case "stride-dilation": {
      const axes = rank - 1;
      return { text: model(`  bad = ${t.name} -> conv${axes}d 2 kernel: 2 stride: 2 dilation: 2 padding: same`), code: "NN0308", fault, expect: "run-throws" };
    }
    case "softmax-axis": {
      // Counting the batch as 0, the last axis is `rank` (or -1); anything else fails.
      const axis = r.pick([0, -(rank + 1), rank + 1, -(rank + 2), ...(rank >= 2 ? [1, -rank] : [])]);
      return { text: model(`  bad = ${t.name} -> softmax axis: ${axis}`), code: "NN0308", fault, expect: "run-throws" };
    }
    case "concat-range": {
      // Past the last axis: tfjs builds a shape with an extra unknown axis and, for axis rank + 1,
      // joins the last axis when it runs (its kernel turns axis == rank into -1); beyond, it throws.
      const axis = rank + 1 + r.int(0, 1);
      return { text: model(`  bad = concat ${t.name}, ${g.same(t).name} axis: ${axis}`), code: "NN0308", fault, expect: axis === rank + 1 ? "accepts" : "run-throws" };
    }
    default: {
      // concat over the batch axis: tfjs joins the two batches.
      const b = g.same(t);
      return { text: model(`  bad = concat ${t.name}, ${b.name} axis: ${r.pick([0, -(rank + 1)])}`), code: "NN0308", fault, expect: "accepts", shape: t.shape };
    }
  }
}

/** What TensorFlow.js does with a model: throws building it, throws running it, or neither. */
function tfjsOutcome(model: CheckedModel): { outcome: Outcome; shape?: (number | null)[]; batch?: number; error?: string } {
  let tm: tf.LayersModel;
  try {
    tm = buildTfjs(model);
  } catch (e) {
    return { outcome: "build-throws", error: (e as Error).message };
  }
  try {
    const shape = (tm.outputs[0].shape as (number | null)[]).slice(1);
    const xs = model.inputs.map((i) => tf.zeros([2, ...tfjsShape(i.shape).map((d) => d ?? 7)], i.dtype === "int" ? "int32" : "float32"));
    try {
      const y = tm.predict(xs.length === 1 ? xs[0] : xs) as tf.Tensor;
      y.dispose();
      return { outcome: "accepts", shape, batch: y.shape[0] };
    } catch (e) {
      return { outcome: "run-throws", shape, error: (e as Error).message };
    } finally {
      tf.dispose(xs);
    }
  } finally {
    tm.dispose();
  }
}

describe("models the checker rejects", () => {
  it(`${NEGATIVE_RUNS} random rejected models: TensorFlow.js throws, or accepts them as documented`, () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(fc.gen(), (gen) => {
        const bad = randomRejected(rand(gen));
        const { model, diagnostics } = front(bad.text);
        const errors = diagnostics.filter((d) => d.severity === "error");
        const context = `${bad.fault}:\n${bad.text}${errors.map((d) => `  ${d.code} ${d.message}`).join("\n")}`;
        expect(errors.map((d) => d.code), context).toEqual([bad.code]);
        expect(model!.complete, context).toBe(false);
        const got = tfjsOutcome(model!);
        expect([bad.expect].flat(), `${context}\n  tfjs: ${got.outcome}: ${got.error ?? "no error"}`).toContain(got.outcome);
        if (bad.fault === "concat-batch") expect(got.batch, context).toBe(4);
        if (bad.shape) expect(got.shape, context).toEqual(bad.shape);
        if (bad.code === "NN0302") {
          // The checker reports the same zero or negative size tfjs computes.
          const size = Number(/of size (-?\d+)/.exec(errors[0].message)![1]);
          expect(got.shape, context).toContain(size);
        }
        if (bad.code === "NN0305") expect(errors[0].message, context).toContain(`produces [*, ${bad.shape!.join(", ")}]`);
        seen.set(bad.fault, (seen.get(bad.fault) ?? 0) + 1);
      }),
      { numRuns: NEGATIVE_RUNS, seed: SEED },
    );
    console.info(`tfjs negative direction: ${[...seen].map(([f, n]) => `${f} ${n}`).join(", ")}`);
  });

  it("an elu with alpha other than 1 fails to build with a clear error (TensorFlow.js 4.22 supports alpha 1 only)", () => {
    for (const line of ["elu 0.5", "dense 3 activation: elu(0.5)"]) {
      const { model } = front(`model m(x: [4]) -> y {\n  y = x -> ${line}\n}\n`);
      expect(model!.complete).toBe(true);
      expect(() => buildTfjs(model!)).toThrow("elu with alpha 0.5 cannot be built in TensorFlow.js, whose elu supports alpha 1 only");
    }
  });

  it("the padding mask of `embedding mask_zero`: through the layers that carry it, TensorFlow.js applies it in the recurrent layer; after one that drops it, check refuses the recurrent layer", () => {
    // With the mask, the lstm skips padded steps: ids padded at the end and at the start give the
    // same output. A layer that drops the mask (check warns) leaves TensorFlow.js holding it anyway
    // for the next recurrent layer, where nnspec has none: check refuses that (NN0313).
    const layers = [
      "dense 8",
      "dense 8 tanh",
      "dense 8 activation: leaky_relu(0.2)",
      "dropout 0.3",
      "relu",
      "gelu",
      "sigmoid",
      "tanh",
      "linear",
      "leaky_relu",
      "elu",
      "softmax",
      "batchnorm",
      "layernorm",
      "conv1d 8 kernel: 3 padding: same",
      "lstm 6 return_sequences: true",
      "gru 6 bidirectional: concat return_sequences: true",
    ];
    const ends = [3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const starts = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4];
    const verdicts: string[] = [];
    for (const line of layers) {
      const { model, diagnostics } = front(`model m(ids: int[12]) -> y {\n  embedding 20 8 mask_zero: true\n  ${line}\n  lstm 5\n}\n`);
      // a recurrent layer after one that dropped the mask: tfjs would still apply it, check refuses
      const stale = diagnostics.some((d) => d.code === "NN0313");
      expect(diagnostics.filter((d) => d.severity === "error" && d.code !== "NN0313").map((d) => d.message)).toEqual([]);
      const dropped = diagnostics.some((d) => d.code === "NN0311");
      expect(stale).toBe(dropped);
      if (stale) {
        verdicts.push(`-${line}`);
        continue;
      }
      const m = buildTfjs(model!);
      const [a, b] = tf.tidy(() => [ends, starts].map((ids) => Array.from((m.predict(tf.tensor2d([ids], [1, 12], "int32")) as tf.Tensor).dataSync())));
      m.dispose();
      const same = a.every((v, k) => Math.abs(v - b[k]) < 1e-6);
      expect(same, `${line}: check says the mask reaches the lstm, tfjs outputs ${a} and ${b}`).toBe(true);
      verdicts.push(`+${line}`);
    }
    expect(verdicts.some((v) => v.startsWith("+")) && verdicts.some((v) => v.startsWith("-"))).toBe(true);
  });

  it("symbolic weight shapes: the checker accepts them with unknown parameters, tfjs cannot build them", () => {
    const { model, diagnostics } = front("model m(x: [n]) -> y {\n  y = x -> dense 3\n}\n");
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expect(model!.layers[0].params).toBeUndefined();
    expect(() => buildTfjs(model!)).toThrow();
  });
});
