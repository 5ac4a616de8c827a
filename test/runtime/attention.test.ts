/**
 * Multi-head attention and positional embeddings against a reference written out here loop by loop
 * from Keras's formulas (TensorFlow.js 4.22 has no MultiHeadAttention to compare with): projections
 * with [D, H, d] kernels, scores scaled by 1/√key_dim, causal and padded keys hidden, the heads
 * concatenated into the output projection. In float64, so any difference is a wrong formula.
 */
import { describe, expect, it } from "vitest";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { Plan } from "../../src/runtime/plan.ts";
import { Rng } from "../../src/core/rng.ts";
import { modelOf } from "./helpers.ts";

type W = Float64Array;

/** Keras's attention for one example: q [Tq, Dq], v [Tv, Dv], k [Tv, Dk]; `visible(i, j)`. */
function reference(q: number[][], v: number[][], k: number[][], w: Record<string, W>, H: number, Kd: number, Vd: number, O: number, visible: (i: number, j: number) => boolean): number[][] {
  const proj = (x: number[][], kernel: W, bias: W | undefined, d: number) =>
    x.map((row) => Array.from({ length: H }, (_, h) => Array.from({ length: d }, (_, e) => row.reduce((s, xf, f) => s + xf * kernel[(f * H + h) * d + e], bias ? bias[h * d + e] : 0))));
  const Q = proj(q, w["query/kernel"], w["query/bias"], Kd);
  const K = proj(k, w["key/kernel"], w["key/bias"], Kd);
  const V = proj(v, w["value/kernel"], w["value/bias"], Vd);
  return q.map((_, i) => {
    // the heads' outputs, concatenated
    const heads: number[] = [];
    for (let h = 0; h < H; h++) {
      const scores = K.map((kj, j) => (visible(i, j) ? Q[i][h].reduce((s, x, e) => s + x * kj[h][e], 0) / Math.sqrt(Kd) : -Infinity));
      const max = Math.max(...scores);
      const e = scores.map((s) => (max === -Infinity ? 1 : Math.exp(s - max)));
      const z = e.reduce((a, b) => a + b, 0);
      for (let d = 0; d < Vd; d++) heads.push(e.reduce((s, p, j) => s + (p / z) * V[j][h][d], 0));
    }
    return Array.from({ length: O }, (_, o) => heads.reduce((s, x, c) => s + x * w["attention_output/kernel"][c * O + o], w["attention_output/bias"]?.[o] ?? 0));
  });
}

function rows(buf: ArrayLike<number>, at: number, t: number, d: number): number[][] {
  return Array.from({ length: t }, (_, i) => Array.from({ length: d }, (_, j) => buf[at + i * d + j]));
}

describe("multi_head_attention against Keras's formula", () => {
  const cases = [
    { name: "self-attention", text: `model m(x: [5, 4]) -> y {\n  multi_head_attention heads: 3, key_dim: 2\n}`, causal: false, padded: false },
    { name: "causal, value_dim and output_dim, no bias", text: `model m(x: [6, 3]) -> y {\n  multi_head_attention heads: 2, key_dim: 3, value_dim: 2, output_dim: 5, causal: true, use_bias: false\n}`, causal: true, padded: false },
    { name: "query, value and key of their own", text: `model m(q: [4, 3], v: [6, 2], k: [6, 5]) -> y {\n  multi_head_attention q, v, k heads: 2, key_dim: 2, value_dim: 3\n}`, causal: false, padded: false },
    { name: "padded ids (every key of one example padded)", text: `model m(ids: int[5]) -> y {\n  embedding 4 3 mask_zero: true\n  multi_head_attention heads: 2, key_dim: 2, causal: true\n}`, causal: true, padded: true },
  ];
  for (const c of cases)
    it(c.name, () => {
      const m = RuntimeModel.lower(modelOf(c.text), { seed: 5, precision: "f64" }).model!;
      const rng = new Rng(3, c.name);
      for (const p of m.params) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal() * 0.5;
      const n = 3;
      const plan = new Plan(m, n);
      m.inputs.forEach((t, i) => {
        const buf = plan.input(i);
        for (let e = 0; e < n * m.tensors[t].size; e++) buf[e] = c.padded ? (e < 5 ? 0 : Math.floor(rng.uniform() * 4)) : rng.normal();
      });
      plan.forward(n, false);
      const att = m.layers[m.layers.length - 1];
      const w: Record<string, W> = Object.fromEntries(att.params.map((p) => [p.name, p.value as W]));
      const [qs, vs = qs, ks = vs] = att.info.inShapes;
      const [qt, vt = qt, kt = vt] = att.inputs;
      const out = plan.values[att.output];
      const O = att.info.outShape[1];
      const H = att.info.opts.heads as number;
      const Kd = att.info.opts.key_dim as number;
      const Vd = typeof att.info.opts.value_dim === "number" ? att.info.opts.value_dim : Kd;
      const ids = plan.input(0);
      let worst = 0;
      for (let b = 0; b < n; b++) {
        const q = rows(plan.values[qt], b * qs[0] * qs[1], qs[0], qs[1]);
        const v = rows(plan.values[vt], b * vs[0] * vs[1], vs[0], vs[1]);
        const k = rows(plan.values[kt], b * ks[0] * ks[1], ks[0], ks[1]);
        const visible = (i: number, j: number) => !(c.causal && j > i) && !(c.padded && ids[b * vs[0] + j] === 0);
        const want = reference(q, v, k, w, H, Kd, Vd, O, visible);
        want.forEach((row, i) => row.forEach((x, o) => (worst = Math.max(worst, Math.abs(x - out[(b * qs[0] + i) * O + o])))));
      }
      expect(worst).toBeLessThan(1e-12);
    });
});

describe("positional_embedding", () => {
  it("adds the Transformer's sinusoids, sin on even features and cos on odd ones", () => {
    const m = RuntimeModel.lower(modelOf(`model m(x: [7, 6]) -> y {\n  positional_embedding sinusoidal max_wavelength: 100\n}`), { precision: "f64" }).model!;
    const plan = new Plan(m, 1);
    plan.forward(1, false);
    const y = plan.output(0);
    for (let p = 0; p < 7; p++)
      for (let i = 0; i < 6; i++) {
        const angle = p / Math.pow(100, (2 * Math.floor(i / 2)) / 6);
        expect(y[p * 6 + i]).toBeCloseTo(i % 2 === 0 ? Math.sin(angle) : Math.cos(angle), 14);
      }
  });

  it("adds one learned vector per step", () => {
    const m = RuntimeModel.lower(modelOf(`model m(x: [3, 2]) -> y {\n  positional_embedding\n}`), { precision: "f64" }).model!;
    m.params[0].value.set([1, 2, 3, 4, 5, 6]);
    const plan = new Plan(m, 2);
    plan.input(0).set([10, 10, 10, 10, 10, 10, 0, 0, 0, 0, 0, 0]);
    plan.forward(2, false);
    expect(Array.from(plan.output(0).subarray(0, 12))).toEqual([11, 12, 13, 14, 15, 16, 1, 2, 3, 4, 5, 6]);
  });
});
