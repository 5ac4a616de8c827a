import { Dim, shapeText } from "../../../core/dims.ts";
import { bool, initializer, positiveInt, regularizer, tfjsInit, tfjsRegularizer, tfjsTrainable, trainable } from "../common.ts";
import { pyLiteral } from "../../torch.ts";
import { defined, kerasInit, kerasRegularizer } from "../keras.ts";
import { attentionKernel, headWidths } from "./kernel.ts";
import type { LayerKind } from "../types.ts";

const ROLES = ["query", "value", "key"];

export const multi_head_attention: LayerKind = {
  name: "multi_head_attention",
  doc: "Keras's MultiHeadAttention over [steps, features]: `multi_head_attention heads: 4, key_dim: 16` attends a sequence to itself; `multi_head_attention q, kv heads: 4, key_dim: 16` attends the query `q` to `kv` (values, and keys unless a third tensor gives them). Scores are scaled by 1/√key_dim; `causal: true` hides later steps, `dropout` drops attention probabilities in training. The output has the query's steps and width (or `output_dim`).",
  inputs: "some",
  role: "weighted",
  // self-attention skips padded keys and keeps the query's mask; with several inputs TensorFlow.js
  // hands a layer only its first input's mask, so none is used
  mask: (opts) => (Array.isArray(opts.inputs) && opts.inputs.length > 1 ? undefined : "uses"),
  args: { positional: [], rest: "inputs" },
  schema: {
    type: "object",
    properties: {
      inputs: { description: "one to three tensor names: query, value (default the query) and key (default the value)", type: "array", minItems: 1, maxItems: 3, items: { type: "string" } },
      heads: positiveInt("attention heads"),
      key_dim: positiveInt("width of each head's queries and keys"),
      value_dim: positiveInt("width of each head's values; default key_dim"),
      output_dim: positiveInt("output width; default the query's"),
      dropout: { description: "a fraction in [0, 1) of attention probabilities dropped in training", type: "number", minimum: 0, exclusiveMaximum: 1, default: 0 },
      causal: bool(false),
      use_bias: bool(true),
      kernel_init: initializer("glorot_uniform"),
      bias_init: initializer("zeros"),
      l1: regularizer,
      l2: regularizer,
      ...trainable,
    },
    required: ["heads", "key_dim"],
    additionalProperties: false,
  },
  shape(ctx) {
    const ins = ctx.inputs;
    for (const [i, s] of ins.entries())
      if (s.length !== 2) return ctx.error("rankMismatch", { layer: "multi_head_attention", expected: `a [steps, features] ${ROLES[i]}`, got: shapeText(s) });
    const [q, v = q, k = v] = ins;
    if (!k[0].equals(v[0]))
      return ctx.error("mergeMismatch", { layer: "multi_head_attention", detail: `keys ${shapeText(k)} and values ${shapeText(v)} (one key per value step)` }, { help: "give keys and values the same number of steps" });
    if (ctx.opts.causal === true && !q[0].equals(v[0]))
      return ctx.error("mergeMismatch", { layer: "multi_head_attention", detail: `a causal query ${shapeText(q)} and values ${shapeText(v)} (causal attention pairs step i with steps up to i)` }, { at: "/causal" });
    const out = typeof ctx.opts.output_dim === "number" ? Dim.of(ctx.opts.output_dim) : q[1];
    return [q[0], out];
  },
  params(ins, out, opts) {
    const [q, v = q, k = v] = ins;
    const { H, Kd, Vd } = headWidths(opts);
    const widths = [q[1].value, k[1].value, v[1].value, out[1].value];
    if (widths.some((w) => w === undefined)) return undefined;
    const [Dq, Dk, Dv, O] = widths as number[];
    const bias = opts.use_bias !== false;
    const n = (Dq + Dk) * H * Kd + Dv * H * Vd + H * Vd * O + (bias ? 2 * H * Kd + H * Vd + O : 0);
    return { trainable: n, nonTrainable: 0 };
  },
  workspace(ins, out, opts) {
    // the attention probabilities of every head
    const [q, v = q] = ins;
    return q[0].mul(v[0]).mul(opts.heads as number).mul(opts.dropout ? 2 : 1);
  },
  flops(ins, out, opts) {
    const [q, v = q, k = v] = ins;
    const { H, Kd, Vd } = headWidths(opts);
    const proj = q[0].mul(q[1]).mul(H * Kd).add(v[0].mul(k[1]).mul(H * Kd)).add(v[0].mul(v[1]).mul(H * Vd)).add(q[0].mul(H * Vd).mul(out[1]));
    const attend = q[0].mul(v[0]).mul(H * (Kd + Vd));
    return proj.add(attend).mul(2);
  },
  tfjs(opts, ins) {
    const reg = tfjsRegularizer(opts);
    return {
      factory: "MultiHeadAttention",
      custom: true,
      config: {
        numHeads: opts.heads,
        keyDim: opts.key_dim,
        valueDim: headWidths(opts).Vd,
        ...(typeof opts.output_dim === "number" ? { outputDim: opts.output_dim } : {}),
        dropout: opts.dropout,
        causal: opts.causal === true,
        useBias: opts.use_bias !== false,
        inputs: ins.length,
        kernelInitializer: tfjsInit(opts.kernel_init, "glorot_uniform"),
        biasInitializer: tfjsInit(opts.bias_init, "zeros"),
        ...(reg ? { kernelRegularizer: reg } : {}),
        ...tfjsTrainable(opts),
      },
    };
  },
  onnx(opts, x, ins, out, g) {
    const [q, v = q, k = v] = x;
    const [sq, sv = sq] = ins;
    const [Tq, Tv] = [sq[0], sv[0]];
    const { H, Kd, Vd } = headWidths(opts);
    const bias = g.has("query/bias");
    // x·W + b, then [batch, steps, heads, width] → [batch, heads, steps, width] (`perm` picks the last two's order)
    const project = (t: string, name: string, steps: number, width: number, perm: number[]): string => {
      const w = g.param(`${name}/kernel`);
      let y = g.op("MatMul", [t, g.floats(w.values, [w.shape[0], H * width])])[0];
      if (bias) y = g.op("Add", [y, g.floats(g.param(`${name}/bias`).values, [H * width])])[0];
      return g.op("Transpose", [g.op("Reshape", [y, g.ints([0, steps, H, width])])[0]], { perm: { ints: perm } })[0];
    };
    const Q = project(q, "query", Tq, Kd, [0, 2, 1, 3]);
    const K = project(k, "key", Tv, Kd, [0, 2, 3, 1]);
    const V = project(v, "value", Tv, Vd, [0, 2, 1, 3]);
    let S = g.op("Mul", [g.op("MatMul", [Q, K])[0], g.floats([1 / Math.sqrt(Kd)], [])])[0];
    // Hidden keys (later ones when causal, padded ones, id 0) score -1e9: 0 after the softmax, and a
    // query that sees no key at all gets equal weights on every key, as in the interpreter and Keras.
    const hidden: string[] = [];
    if (opts.causal === true) hidden.push(g.floats(Float32Array.from({ length: Tq * Tv }, (_, i) => (i % Tv > Math.floor(i / Tv) ? 1 : 0)), [Tq, Tv]));
    if (g.ids) {
      const pad = g.op("Cast", [g.op("Equal", [g.op("Cast", [g.ids], { to: { i: 7 } })[0], g.ints([0], [])])[0]], { to: { i: 1 } })[0];
      hidden.push(g.op("Unsqueeze", [pad, g.ints([1, 2])])[0]);
    }
    if (hidden.length) {
      const any = g.op("Cast", [hidden.length === 2 ? g.op("Max", hidden)[0] : hidden[0]], { to: { i: 9 } })[0];
      S = g.op("Where", [any, g.floats([-1e9], []), S])[0];
    }
    const P = g.op("Softmax", [S], { axis: { i: -1 } })[0];
    const O = g.op("Reshape", [g.op("Transpose", [g.op("MatMul", [P, V])[0]], { perm: { ints: [0, 2, 1, 3] } })[0], g.ints([0, Tq, H * Vd])])[0];
    const wo = g.param("attention_output/kernel");
    const y = g.op("MatMul", [O, g.floats(wo.values, [H * Vd, out[1]])])[0];
    return [bias ? g.op("Add", [y, g.weight("attention_output/bias")])[0] : y];
  },
  // Keras's own layer writes `num_heads`, `key_dim`, `value_dim` and `output_shape` too; `causal` is nnspec's
  keras: {
    classes: ["MultiHeadAttention"],
    options: (r) =>
      defined({
        heads: r.config.num_heads,
        key_dim: r.config.key_dim,
        value_dim: r.config.value_dim ?? undefined,
        output_dim: r.config.output_dim ?? (typeof r.config.output_shape === "number" ? r.config.output_shape : undefined),
        dropout: r.config.dropout ?? undefined,
        causal: r.config.causal ?? undefined,
        use_bias: r.config.use_bias ?? undefined,
        kernel_init: kerasInit(r, "kernel_initializer"),
        bias_init: kerasInit(r, "bias_initializer"),
        ...kerasRegularizer(r, "kernel_regularizer"),
      }),
  },
  torch(opts, ins, out, layer) {
    const [q, v = q, k = v] = ins;
    const bias = opts.use_bias !== false;
    const names = ["query", "key", "value", "attention_output"];
    const weights = Object.fromEntries(names.flatMap((n) => [[`${n}/kernel`, { attr: `${n}_kernel`, convert: "same" as const }], ...(bias ? [[`${n}/bias`, { attr: `${n}_bias`, convert: "same" as const }]] : [])]));
    const args = [q[1], k[1], v[1], out[1]].join(", ");
    const kw = Object.entries({ heads: opts.heads, key_dim: opts.key_dim, value_dim: headWidths(opts).Vd, dropout: opts.dropout, causal: opts.causal, use_bias: opts.use_bias, layer }).map(([key, x]) => `${key}=${pyLiteral(x)}`);
    return {
      module: `nt.MultiHeadAttention(${args}, ${kw.join(", ")})`,
      layout: "last",
      call: (xs, self, _layout, mask) => `${self}(${xs.join(", ")}${mask ? `, mask=${mask}` : ""})`,
      weights,
    };
  },
  kernel: attentionKernel,
};
