/**
 * Gradient checks: every layer kind, activation and loss, on random shapes, against central finite
 * differences with the whole plan in float64. Each case builds a small model from spec text,
 * computes analytic gradients for every parameter (and the input, where it is differentiable),
 * then perturbs a sample of entries by ±h and compares.
 */
import { afterAll, describe, expect, it } from "vitest";
import { named } from "../../src/kinds/index.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { Plan } from "../../src/runtime/plan.ts";
import { Rng } from "../../src/core/rng.ts";
import { TrainStep } from "../../src/runtime/step.ts";
import type { Buf } from "../../src/core/kernel.ts";
import { modelOf } from "./helpers.ts";

interface Case {
  name: string;
  /** Model body; `x` is the input. */
  spec: (r: () => number) => string;
  loss?: string;
  lossOpts?: Record<string, boolean | number>;
  /** How labels are drawn: class indices, one-hot, 0/1, or reals. */
  labels?: "class" | "onehot" | "binary" | "real" | "prob";
  /** Input values: reals in [-1, 1] or integer ids below `ids`. */
  ids?: number;
  inputGrad?: boolean;
  tol?: number;
}

const H = 1e-6;
const results: { name: string; err: number; checked: number }[] = [];

/** A random integer in [lo, hi] from the case's own stream. */
const between = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function runCase(c: Case, seed: number): { err: number; checked: number } {
  const rng = new Rng(seed, c.name);
  const r = () => rng.uniform();
  const text = c.spec(r);
  const checked = modelOf(text);
  const { model, errors } = RuntimeModel.lower(checked, { seed, precision: "f64" });
  expect(errors).toEqual([]);
  const m = model!;
  const n = between(r, 2, 4);
  const loss = c.loss ?? "mse";
  const step = new TrainStep(m, n, named("loss", loss, c.lossOpts ?? {}), named("optimizer", "sgd"));
  // The step's plan has no input gradients; use a second plan for them when asked.
  const x = step.plan.input(0);
  for (let i = 0; i < x.length; i++) x[i] = c.ids ? Math.floor(r() * c.ids) : 2 * r() - 1;
  const outShape = m.tensors[m.outputs[0]].shape;
  const K = outShape[outShape.length - 1];
  const rows = step.labelWidth;
  const lab = step.labels;
  const kind = c.labels ?? "real";
  for (let e = 0; e < n; e++) {
    if (kind === "class") for (let j = 0; j < rows; j++) lab[e * rows + j] = Math.floor(r() * K);
    else if (kind === "onehot") {
      for (let g = 0; g < rows / K; g++) {
        const t = Math.floor(r() * K);
        for (let j = 0; j < K; j++) lab[e * rows + g * K + j] = j === t ? 1 : 0;
      }
    } else for (let j = 0; j < rows; j++) lab[e * rows + j] = kind === "binary" ? (r() < 0.5 ? 0 : 1) : kind === "prob" ? r() : 2 * r() - 1;
  }
  // Dropout draws a new mask per forward: replay the same stream for every evaluation.
  const resetRng = () => m.layers.forEach((l) => (l.rng = new Rng(seed, `drop/${l.info.name}`)));
  const penalty = () => {
    let s = 0;
    for (const p of m.params) for (let i = 0; i < p.value.length; i++) s += p.l1 * Math.abs(p.value[i]) + p.l2 * p.value[i] * p.value[i];
    return s;
  };
  const objective = () => {
    resetRng();
    step.plan.forward(n, true);
    return step.loss.compute(n) + penalty();
  };
  // Moving statistics change on every training forward; they do not affect the training output.
  resetRng();
  step.gradients(n);
  const targets: { name: string; value: Buf; grad: Float64Array }[] = m.trainable.map((p) => ({ name: p.id, value: p.value, grad: Float64Array.from(p.grad!) }));
  let err = 0;
  let count = 0;
  for (const t of targets) {
    const idx = t.value.length <= 24 ? [...t.value.keys()] : Array.from({ length: 24 }, () => Math.floor(r() * t.value.length));
    for (const i of idx) {
      const v = t.value[i];
      t.value[i] = v + H;
      const up = objective();
      t.value[i] = v - H;
      const down = objective();
      t.value[i] = v;
      const num = (up - down) / (2 * H);
      const ana = t.grad[i];
      const e = Math.abs(num - ana) / Math.max(1e-3, Math.abs(num) + Math.abs(ana));
      if (e > err) err = e;
      count++;
      if (e > (c.tol ?? 1e-6)) throw new Error(`${c.name}: ${t.name}[${i}] analytic ${ana} numeric ${num} (rel ${e.toExponential(2)})\n${text}`);
    }
  }
  return { err, checked: count };
}

/** Input gradients through a plan that keeps them, checked the same way. */
function runInputCase(c: Case, seed: number): { err: number; checked: number } {
  const rng = new Rng(seed, `${c.name}/input`);
  const r = () => rng.uniform();
  const checked = modelOf(c.spec(r));
  const m = RuntimeModel.lower(checked, { seed, precision: "f64" }).model!;
  const n = 2;
  const plan = new Plan(m, n, { train: true, inputGrads: true });
  const x = plan.input(0);
  for (let i = 0; i < x.length; i++) x[i] = 2 * r() - 1;
  const out = plan.output(0);
  const dOut = plan.outputGrad(0)!;
  // A fixed random projection of the output as the objective: L = Σ w·y.
  const w = Float64Array.from({ length: out.length }, () => 2 * r() - 1);
  const resetRng = () => m.layers.forEach((l) => (l.rng = new Rng(seed, `drop/${l.info.name}`)));
  const objective = () => {
    resetRng();
    plan.forward(n, true);
    let s = 0;
    for (let i = 0; i < out.length; i++) s += w[i] * out[i];
    return s;
  };
  resetRng();
  plan.forward(n, true);
  dOut.set(w);
  plan.backward(n);
  const g = Float64Array.from(plan.inputGrad(0)!);
  let err = 0;
  let count = 0;
  const idx = x.length <= 24 ? [...x.keys()] : Array.from({ length: 24 }, () => Math.floor(r() * x.length));
  for (const i of idx) {
    const v = x[i];
    x[i] = v + H;
    const up = objective();
    x[i] = v - H;
    const down = objective();
    x[i] = v;
    const num = (up - down) / (2 * H);
    const e = Math.abs(num - g[i]) / Math.max(1e-3, Math.abs(num) + Math.abs(g[i]));
    if (e > err) err = e;
    count++;
    if (e > (c.tol ?? 1e-6)) throw new Error(`${c.name}: input[${i}] analytic ${g[i]} numeric ${num} (rel ${e.toExponential(2)})`);
  }
  return { err, checked: count };
}

const vec = (r: () => number, body: string, lo = 2, hi = 6) => `model m(x: [${between(r, lo, hi)}]) -> y {\n${body}\n}`;
const img = (r: () => number, body: string, lo = 5, hi = 8) => `model m(x: [${between(r, lo, hi)}, ${between(r, lo, hi)}, ${between(r, 1, 3)}]) -> y {\n${body}\n}`;
const seq = (r: () => number, body: string) => `model m(x: [${between(r, 6, 10)}, ${between(r, 1, 3)}]) -> y {\n${body}\n}`;

const ACTS = ["linear", "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softmax"];

const CASES: Case[] = [
  ...ACTS.map((a): Case => ({ name: `dense ${a}`, spec: (r) => vec(r, `  dense ${between(r, 2, 5)} ${a}\n  dense ${between(r, 1, 3)}`) })),
  ...ACTS.map((a): Case => ({ name: `activation layer ${a}`, spec: (r) => vec(r, `  dense ${between(r, 2, 5)}\n  ${a}`) })),
  { name: "leaky_relu alpha", spec: (r) => vec(r, `  dense 4 activation: leaky_relu(0.2)\n  leaky_relu 0.1\n  dense 2`) },
  { name: "elu alpha", spec: (r) => vec(r, `  dense 4 activation: elu(0.5)\n  elu 1.5\n  dense 2`) },
  { name: "dense no bias, rank 2", spec: (r) => `model m(x: [${between(r, 2, 4)}, ${between(r, 2, 5)}]) -> y {\n  dense 3 tanh use_bias: false\n  dense 2\n}` },
  { name: "dropout", spec: (r) => vec(r, `  dense 6 tanh\n  dropout 0.4\n  dense 2`) },
  { name: "flatten + reshape", spec: (r) => `model m(x: [3, 4]) -> y {\n  dense ${2 * between(r, 1, 2)} tanh\n  flatten\n  reshape [2, -1]\n  dense 2\n}` },
  { name: "add + concat (last axis)", spec: () => `model m(x: [5]) -> y {\n  a = dense 4 tanh\n  b = a -> dense 4 sigmoid\n  s = add a, b, a\n  c = concat s, x, b\n  dense 2\n}` },
  { name: "concat axis 1", spec: () => `model m(x: [3, 2]) -> y {\n  a = dense 4 tanh\n  b = x -> dense 4\n  c = concat a, b, axis: 1\n  flatten\n  dense 2\n}` },
  { name: "conv2d valid", spec: (r) => img(r, `  conv2d ${between(r, 2, 4)} kernel: ${between(r, 2, 3)} tanh\n  flatten\n  dense 2`) },
  { name: "conv2d same stride 2", spec: (r) => img(r, `  conv2d 3 kernel: 3 stride: 2 padding: same relu\n  flatten\n  dense 2`) },
  { name: "conv2d dilation, rectangular", spec: () => `model m(x: [7, 6, 2]) -> y {\n  conv2d 2 kernel: [3, 2] dilation: [2, 1] gelu\n  flatten\n  dense 2\n}` },
  { name: "conv2d 1x1", spec: (r) => img(r, `  conv2d 3 kernel: 1 sigmoid use_bias: false\n  flatten\n  dense 2`) },
  { name: "conv1d", spec: (r) => seq(r, `  conv1d 3 kernel: 3 padding: same stride: 2 tanh\n  conv1d 2 kernel: 2\n  flatten\n  dense 2`) },
  { name: "maxpool2d", spec: (r) => img(r, `  conv2d 3 kernel: 2 tanh\n  maxpool2d 2\n  flatten\n  dense 2`) },
  { name: "maxpool2d same stride 1", spec: (r) => img(r, `  conv2d 2 kernel: 2\n  maxpool2d 3 stride: 1 padding: same\n  flatten\n  dense 2`) },
  { name: "avgpool2d", spec: (r) => img(r, `  conv2d 2 kernel: 2\n  avgpool2d 2\n  flatten\n  dense 2`) },
  { name: "avgpool2d same", spec: (r) => img(r, `  conv2d 2 kernel: 2\n  avgpool2d 3 stride: 2 padding: same\n  flatten\n  dense 2`) },
  { name: "maxpool1d + avgpool1d", spec: (r) => seq(r, `  conv1d 3 kernel: 2\n  maxpool1d 2\n  avgpool1d 2 padding: same\n  flatten\n  dense 2`) },
  { name: "global pools 2d", spec: () => `model m(x: [4, 5, 3]) -> y {\n  h = conv2d 3 kernel: 2 tanh\n  a = h -> global_maxpool2d\n  b = h -> global_avgpool2d\n  c = concat a, b\n  dense 2\n}` },
  { name: "global pools 1d", spec: (r) => seq(r, `  h = conv1d 3 kernel: 2\n  a = h -> global_maxpool1d\n  b = h -> global_avgpool1d\n  c = concat a, b\n  dense 2`) },
  { name: "batchnorm", spec: (r) => vec(r, `  dense 5\n  batchnorm\n  tanh\n  dense 2`) },
  { name: "batchnorm on images, no scale", spec: (r) => img(r, `  conv2d 3 kernel: 2\n  batchnorm momentum: 0.9 scale: false\n  flatten\n  dense 2`) },
  { name: "batchnorm no center", spec: (r) => vec(r, `  dense 4\n  batchnorm center: false epsilon: 0.01\n  dense 2`) },
  { name: "layernorm", spec: (r) => vec(r, `  dense 5\n  layernorm\n  dense 2`) },
  { name: "layernorm rank 2, no scale", spec: () => `model m(x: [3, 4]) -> y {\n  dense 5\n  layernorm scale: false\n  flatten\n  dense 2\n}` },
  { name: "embedding", ids: 7, inputGrad: false, spec: () => `model m(x: int[5]) -> y {\n  embedding 7 3\n  flatten\n  dense 2\n}` },
  { name: "l1 + l2", spec: (r) => vec(r, `  dense 4 tanh l1: 0.01 l2: 0.02\n  dense 2 l2: 0.1`) },
  { name: "embedding l2", ids: 5, inputGrad: false, spec: () => `model m(x: int[3]) -> y {\n  embedding 5 2 l2: 0.05\n  flatten\n  dense 1\n}` },
  // recurrent layers: through time, every gate, both GRU forms, backwards, stacked
  { name: "simple_rnn", spec: (r) => seq(r, `  simple_rnn ${between(r, 2, 4)}\n  dense 2`) },
  { name: "simple_rnn relu, sequences, backwards", spec: (r) => seq(r, `  simple_rnn 3 activation: relu return_sequences: true go_backwards: true\n  flatten\n  dense 2`) },
  { name: "lstm", spec: (r) => seq(r, `  lstm ${between(r, 2, 4)}\n  dense 2`) },
  { name: "lstm stacked, sequences, backwards", spec: (r) => seq(r, `  lstm 3 return_sequences: true go_backwards: true\n  lstm 2 return_sequences: true\n  flatten\n  dense 2`) },
  { name: "lstm hard_sigmoid, no bias, l2", spec: (r) => seq(r, `  lstm 3 recurrent_activation: hard_sigmoid use_bias: false l2: 0.05\n  dense 2`) },
  { name: "gru", spec: (r) => seq(r, `  gru ${between(r, 2, 4)}\n  dense 2`) },
  { name: "gru reset_after, sequences", spec: (r) => seq(r, `  gru 3 reset_after: true return_sequences: true\n  flatten\n  dense 2`) },
  { name: "lstm dropout and recurrent_dropout", spec: (r) => seq(r, `  lstm 4 dropout: 0.3 recurrent_dropout: 0.4 return_sequences: true\n  flatten\n  dense 2`) },
  { name: "gru dropouts, both forms", spec: (r) => seq(r, `  gru 3 dropout: 0.25 recurrent_dropout: 0.5 return_sequences: true\n  gru 3 reset_after: true recurrent_dropout: 0.3 dropout: 0.2\n  dense 2`) },
  { name: "simple_rnn recurrent_dropout", spec: (r) => seq(r, `  simple_rnn 4 recurrent_dropout: 0.5 go_backwards: true\n  dense 2`) },
  { name: "bidirectional lstm concat, sequences", spec: (r) => seq(r, `  lstm 3 bidirectional: concat return_sequences: true\n  flatten\n  dense 2`) },
  { name: "bidirectional gru sum, backwards", spec: (r) => seq(r, `  gru 3 bidirectional: sum go_backwards: true\n  dense 2`) },
  { name: "bidirectional simple_rnn mul and ave, dropout", spec: (r) => seq(r, `  simple_rnn 3 bidirectional: mul return_sequences: true dropout: 0.3\n  simple_rnn 2 bidirectional: ave recurrent_dropout: 0.3\n  dense 2`) },
  // padding: id 0 (a quarter of the ids) leaves every recurrent state unchanged
  { name: "mask_zero: lstm sequences into gru", ids: 4, inputGrad: false, spec: () => `model m(x: int[6]) -> y {\n  embedding 4 3 mask_zero: true\n  lstm 3 return_sequences: true\n  gru 2 go_backwards: true\n  dense 2\n}` },
  { name: "mask_zero: through dense and dropout into bidirectional rnns", ids: 4, inputGrad: false, spec: () => `model m(x: int[7]) -> y {\n  embedding 4 3 mask_zero: true\n  dense 3 tanh\n  dropout 0.2\n  gru 3 reset_after: true bidirectional: concat return_sequences: true recurrent_dropout: 0.3\n  simple_rnn 2 bidirectional: mul\n  dense 2\n}` },
  // attention: every projection, both softmax paths, causal and padded keys, dropout, several inputs
  { name: "self-attention", spec: (r) => seq(r, `  multi_head_attention heads: ${between(r, 1, 3)}, key_dim: ${between(r, 1, 3)}\n  flatten\n  dense 2`) },
  { name: "self-attention causal, dropout, value_dim, output_dim", spec: (r) => seq(r, `  multi_head_attention heads: 2, key_dim: 2, value_dim: 3, output_dim: 4, causal: true, dropout: 0.3\n  flatten\n  dense 2`) },
  { name: "self-attention without bias, l2", spec: (r) => seq(r, `  multi_head_attention heads: 2, key_dim: 2, use_bias: false, l2: 0.05\n  flatten\n  dense 2`) },
  { name: "attention query to value and key", spec: () => `model m(x: [5, 3]) -> y {\n  v = dense 4 tanh\n  k = x -> dense 2\n  a = multi_head_attention x, v heads: 2, key_dim: 2\n  b = multi_head_attention a, v, k heads: 1, key_dim: 3, value_dim: 2\n  flatten\n  dense 2\n}` },
  { name: "attention to the same tensor twice", spec: () => `model m(x: [4, 3]) -> y {\n  multi_head_attention x, x heads: 2, key_dim: 2\n  flatten\n  dense 2\n}` },
  { name: "mask_zero: positional embedding and self-attention over padded ids", ids: 3, inputGrad: false, spec: () => `model m(x: int[6]) -> y {\n  embedding 3 4 mask_zero: true\n  p = positional_embedding\n  a = multi_head_attention heads: 2, key_dim: 2, causal: true\n  s = add p, a\n  multi_head_attention heads: 1, key_dim: 2\n  global_avgpool1d\n  dense 2\n}` },
  { name: "positional embedding learned and sinusoidal", spec: (r) => seq(r, `  positional_embedding\n  positional_embedding sinusoidal max_wavelength: 50\n  flatten\n  dense 2`) },
  { name: "gru backwards into lstm", spec: (r) => seq(r, `  gru 3 go_backwards: true return_sequences: true\n  lstm 2\n  dense 2`) },
  // states: an encoder's final states (return_state) start a decoder (initial_state); gradients
  // reach the encoder through them, and through its output where that is read too
  { name: "lstm states into lstm", spec: (r) => seq(r, `  e, h, c = lstm 3 return_state: true\n  d = x -> lstm 3 return_sequences: true, initial_state: [h, c]\n  flatten\n  dense 2`) },
  { name: "gru and simple_rnn states, outputs read too", spec: (r) => seq(r, `  e, h = gru 3 return_state: true, reset_after: true\n  d = x -> gru 3 initial_state: [h], go_backwards: true\n  f, g = x -> simple_rnn 3 return_state: true, return_sequences: true\n  k = x -> simple_rnn 3 initial_state: [g]\n  m = concat e, d, k, g\n  dense 2`) },
  { name: "lstm states with dropouts, the final state as well as the output", spec: (r) => seq(r, `  e, h, c = lstm 3 return_state: true, dropout: 0.2\n  d, h2, c2 = x -> lstm 3 initial_state: [h, c], recurrent_dropout: 0.3, return_state: true\n  m = concat d, c2\n  dense 2`) },
  { name: "mask_zero: lstm states into gru over padded ids", ids: 4, inputGrad: false, spec: () => `model m(x: int[6]) -> y {\n  v = embedding 4 3 mask_zero: true\n  e, h, c = lstm 3 return_state: true\n  d = v -> lstm 3 initial_state: [h, c]\n  dense 2\n}` },
  // losses
  { name: "loss mae", loss: "mae", spec: (r) => vec(r, `  dense 3`) },
  { name: "loss huber", loss: "huber", lossOpts: { delta: 0.3 }, spec: (r) => vec(r, `  dense 3 activation: linear l2: 0\n  dense 3`) },
  { name: "loss bce sigmoid", loss: "binary_cross_entropy", labels: "binary", spec: (r) => vec(r, `  dense 3 sigmoid`) },
  { name: "loss bce smoothing", loss: "binary_cross_entropy", lossOpts: { label_smoothing: 0.1 }, labels: "prob", spec: (r) => vec(r, `  dense 2 sigmoid`) },
  { name: "loss bce logits", loss: "binary_cross_entropy", lossOpts: { from_logits: true }, labels: "binary", spec: (r) => vec(r, `  dense 3`) },
  { name: "loss ce softmax", loss: "cross_entropy", labels: "onehot", spec: (r) => vec(r, `  dense 4 softmax`) },
  { name: "loss ce unnormalized", loss: "cross_entropy", labels: "onehot", spec: (r) => vec(r, `  dense 4 sigmoid`) },
  { name: "loss ce logits smoothing", loss: "cross_entropy", lossOpts: { from_logits: true, label_smoothing: 0.2 }, labels: "onehot", spec: (r) => vec(r, `  dense 4`) },
  { name: "loss sparse softmax", loss: "sparse_cross_entropy", labels: "class", spec: (r) => vec(r, `  dense 4 softmax`) },
  { name: "loss sparse logits", loss: "sparse_cross_entropy", lossOpts: { from_logits: true }, labels: "class", spec: (r) => vec(r, `  dense 5`) },
  { name: "loss sparse logits rank 2", loss: "sparse_cross_entropy", lossOpts: { from_logits: true }, labels: "class", spec: () => `model m(x: [3, 2]) -> y {\n  dense 4\n}` },
];

describe("gradient check (float64 central differences)", () => {
  for (const c of CASES) {
    it(c.name, () => {
      for (const seed of [1, 2]) {
        const a = runCase(c, seed);
        const b = c.inputGrad === false || c.ids ? { err: 0, checked: 0 } : runInputCase(c, seed);
        results.push({ name: c.name, err: Math.max(a.err, b.err), checked: a.checked + b.checked });
      }
    });
  }
  afterAll(() => {
    const worst = results.reduce((w, x) => (x.err > w.err ? x : w), { name: "", err: 0, checked: 0 });
    const total = results.reduce((s, x) => s + x.checked, 0);
    console.log(`gradcheck: ${results.length} runs, ${total} entries, max relative error ${worst.err.toExponential(2)} (${worst.name})`);
  });
});
