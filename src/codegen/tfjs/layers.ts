/**
 * The layers TensorFlow.js 4.22 lacks, as nnspec's interpreter computes them (each kind's kernel
 * says the formula): `MultiHeadAttention` (Keras's weights and names) and `PositionalEmbedding`.
 * Registered for serialization, so a saved `model.json` naming them loads back once this module is
 * imported; generated code and nnspec's tests build them through `CUSTOM_LAYERS`.
 */
import * as tf from "@tensorflow/tfjs";
import { dropoutRng, type Rng } from "../../core/rng.ts";
import { sinusoids } from "../../kinds/layers/position/kernel.ts";

type Initializer = ReturnType<typeof tf.initializers.zeros>;
type Regularizer = ReturnType<typeof tf.regularizers.l1l2>;
type InitArg = string | { className: string; config?: Record<string, unknown> } | Initializer;

const isInitializer = (v: unknown): v is Initializer => typeof v === "object" && v !== null && typeof (v as Initializer).apply === "function" && typeof (v as Initializer).getClassName === "function";

/** An initializer from an identifier (`glorotUniform`), a serialized config, or an initializer. */
function initializerOf(v: InitArg | undefined, dflt: string, seedShift = 0): Initializer {
  if (isInitializer(v) && !seedShift) return v;
  const name = v === undefined ? dflt : typeof v === "string" ? v : isInitializer(v) ? v.getClassName() : v.className;
  const config = { ...(isInitializer(v) ? v.getConfig() : typeof v === "object" ? (v.config ?? {}) : {}) } as Record<string, unknown>;
  // one seeded initializer for several weights: each draws its own numbers; Keras JSON writes no seed as null
  if (typeof config.seed === "number") config.seed += seedShift;
  else delete config.seed;
  const make = (tf.initializers as unknown as Record<string, (c: object) => Initializer>)[name.charAt(0).toLowerCase() + name.slice(1)];
  if (typeof make !== "function") throw new Error(`TensorFlow.js has no initializer \`${name}\``);
  return make(config);
}

const serialized = (i: Initializer) => ({ className: i.getClassName(), config: i.getConfig() });

type Shape = (number | null)[];
const shapesOf = (s: tf.Shape | tf.Shape[]): Shape[] => (Array.isArray(s[0]) || s[0] === undefined ? (s as Shape[]) : [s as Shape]);

interface AttentionConfig {
  name?: string;
  numHeads: number;
  keyDim: number;
  valueDim?: number;
  outputDim?: number;
  dropout?: number;
  causal?: boolean;
  useBias?: boolean;
  /** How many tensors it reads: 1 (self-attention), 2 (query, value) or 3 (query, value, key). */
  inputs?: number;
  kernelInitializer?: InitArg;
  biasInitializer?: InitArg;
  kernelRegularizer?: Regularizer | { className: string; config: Record<string, unknown> };
  /** The model's seed: attention dropout draws the interpreter's masks from the layer's stream. */
  seed?: number;
  trainable?: boolean;
}

/** Keras's MultiHeadAttention with nnspec's masking (see src/kinds/layers/attention/kernel.ts). */
export class MultiHeadAttention extends tf.layers.Layer {
  static className = "MultiHeadAttention";
  private readonly cfg: Required<Omit<AttentionConfig, "name" | "outputDim" | "kernelRegularizer" | "trainable" | "kernelInitializer" | "biasInitializer" | "valueDim">> & { outputDim?: number; valueDim: number };
  private readonly kernelInit: Initializer;
  private readonly biasInit: Initializer;
  private readonly regularizer?: Regularizer;
  private readonly rng: Rng;
  private w: tf.LayerVariable[] = [];

  constructor(config: AttentionConfig) {
    super({ name: config.name, trainable: config.trainable });
    this.supportsMasking = true;
    this.cfg = {
      numHeads: config.numHeads,
      keyDim: config.keyDim,
      valueDim: config.valueDim ?? config.keyDim,
      outputDim: config.outputDim,
      dropout: config.dropout ?? 0,
      causal: config.causal ?? false,
      useBias: config.useBias ?? true,
      inputs: config.inputs ?? 1,
      seed: config.seed ?? 0,
    };
    this.kernelInit = initializerOf(config.kernelInitializer, "glorotUniform");
    this.biasInit = initializerOf(config.biasInitializer, "zeros");
    const reg = config.kernelRegularizer;
    this.regularizer = reg === undefined ? undefined : typeof (reg as Regularizer).apply === "function" ? (reg as Regularizer) : tf.regularizers.l1l2((reg as { config: { l1?: number; l2?: number } }).config);
    this.rng = dropoutRng(this.cfg.seed, this.name);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [q, v = q, k = v] = shapesOf(inputShape);
    const { numHeads: H, keyDim: Kd, valueDim: Vd, useBias } = this.cfg;
    const O = this.cfg.outputDim ?? (q[2] as number);
    let kernels = 0;
    const kernel = (name: string, shape: number[]) => this.addWeight(name, shape, "float32", initializerOf(this.kernelInit, "glorotUniform", kernels++), this.regularizer);
    const bias = (name: string, shape: number[]) => (useBias ? [this.addWeight(name, shape, "float32", this.biasInit)] : []);
    this.w = [
      kernel("query/kernel", [q[2] as number, H, Kd]),
      ...bias("query/bias", [H, Kd]),
      kernel("key/kernel", [k[2] as number, H, Kd]),
      ...bias("key/bias", [H, Kd]),
      kernel("value/kernel", [v[2] as number, H, Vd]),
      ...bias("value/bias", [H, Vd]),
      kernel("attention_output/kernel", [H, Vd, O]),
      ...bias("attention_output/bias", [O]),
    ];
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [q] = shapesOf(inputShape);
    return [q[0], q[1], this.cfg.outputDim ?? q[2]];
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const m = Array.isArray(mask) ? mask[0] : mask;
    // tfjs reads null as "no mask"
    return (this.cfg.inputs === 1 && m ? m : null) as unknown as tf.Tensor;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean; mask?: tf.Tensor | tf.Tensor[] }): tf.Tensor {
    return tf.tidy(() => {
      const xs = Array.isArray(inputs) ? inputs : [inputs];
      const [q, v = q, k = v] = xs as tf.Tensor3D[];
      const { numHeads: H, keyDim: Kd, valueDim: Vd, useBias, causal, dropout } = this.cfg;
      const w = this.w.map((x) => x.read());
      const [Wq, bq, Wk, bk, Wv, bv, Wo, bo] = useBias ? w : [w[0], null, w[1], null, w[2], null, w[3], null];
      const [B, Tq] = q.shape as [number, number, number];
      const Tv = v.shape[1] as number;
      // [B, T, D] · [D, H·d] + b → [B, H, T, d]
      const project = (x: tf.Tensor3D, W: tf.Tensor, b: tf.Tensor | null, d: number) => {
        const [n, t, f] = x.shape;
        let y = tf.matMul(x.reshape([n * t, f]), W.reshape([f, H * d]));
        if (b) y = tf.add(y, b.reshape([H * d]));
        return y.reshape([n, t, H, d]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
      };
      const Q = project(q, Wq, bq, Kd);
      const K = project(k, Wk, bk, Kd);
      const V = project(v, Wv, bv, Vd);
      const scores = tf.mul(tf.matMul(Q, K, false, true), 1 / Math.sqrt(Kd));
      // which keys each query sees: none after it (causal), none padded (self-attention's mask)
      let visible: tf.Tensor | null = causal ? tf.linalg.bandPart(tf.ones([Tq, Tv], "bool").cast("int32"), -1, 0).cast("bool").reshape([1, 1, Tq, Tv]) : null;
      let m = Array.isArray(kwargs.mask) ? kwargs.mask[0] : kwargs.mask;
      // tfjs 4.22's merge layers hand on their first input's mask with an extra leading axis
      if (m && m.rank === 3) m = m.reshape(m.shape.slice(1));
      if (m && xs.length === 1) {
        const keys = m.cast("bool").reshape([B, 1, 1, Tv]);
        visible = visible ? tf.logicalAnd(visible, keys) : keys;
      }
      // hidden keys far below every visible one; a query that sees none sees all evenly
      const masked = visible ? tf.where(tf.broadcastTo(visible, scores.shape), scores, tf.fill(scores.shape, -1e30)) : scores;
      let probs = tf.softmax(masked);
      if (kwargs.training && dropout > 0) {
        const keep = 1 / (1 - dropout);
        const draws = new Float32Array(probs.size);
        for (let i = 0; i < draws.length; i++) draws[i] = this.rng.uniform() >= dropout ? keep : 0;
        probs = tf.mul(probs, tf.tensor(draws, probs.shape, "float32"));
      }
      const heads = tf.matMul(probs, V).transpose([0, 2, 1, 3]).reshape([B * Tq, H * Vd]);
      const O = Wo.shape[2] as number;
      let y = tf.matMul(heads, Wo.reshape([H * Vd, O]));
      if (bo) y = tf.add(y, bo);
      return y.reshape([B, Tq, O]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { seed: _s, ...rest } = this.cfg;
    return {
      ...super.getConfig(),
      ...rest,
      kernelInitializer: serialized(this.kernelInit),
      biasInitializer: serialized(this.biasInit),
      ...(this.regularizer ? { kernelRegularizer: { className: this.regularizer.getClassName(), config: this.regularizer.getConfig() } } : {}),
    } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(MultiHeadAttention);

interface PositionConfig {
  name?: string;
  mode?: "learned" | "sinusoidal";
  maxWavelength?: number;
  embeddingsInitializer?: InitArg;
  trainable?: boolean;
}

/** Positions added to a [steps, features] sequence (see src/kinds/layers/position/kernel.ts). */
export class PositionalEmbedding extends tf.layers.Layer {
  static className = "PositionalEmbedding";
  private readonly mode: "learned" | "sinusoidal";
  private readonly maxWavelength: number;
  private readonly init: Initializer;
  private embeddings?: tf.LayerVariable;

  constructor(config: PositionConfig) {
    super({ name: config.name, trainable: config.trainable });
    this.supportsMasking = true;
    this.mode = config.mode ?? "learned";
    this.maxWavelength = config.maxWavelength ?? 10000;
    this.init = initializerOf(config.embeddingsInitializer, "glorotUniform");
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [s] = shapesOf(inputShape);
    if (this.mode === "learned") this.embeddings = this.addWeight("embeddings", [s[1] as number, s[2] as number], "float32", this.init);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return shapesOf(inputShape)[0];
  }

  override computeMask(_inputs: tf.Tensor | tf.Tensor[], mask?: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return ((Array.isArray(mask) ? mask[0] : mask) ?? null) as unknown as tf.Tensor;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const [, T, d] = x.shape as number[];
      const P = this.embeddings ? this.embeddings.read() : tf.tensor(Float32Array.from(sinusoids(T, d, this.maxWavelength)), [T, d]);
      return tf.add(x, P);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode, maxWavelength: this.maxWavelength, embeddingsInitializer: serialized(this.init) } as tf.serialization.ConfigDict;
  }
}
tf.serialization.registerClass(PositionalEmbedding);

/** The custom layers by the `factory` a kind's tfjs mapping names. */
export const CUSTOM_LAYERS: Readonly<Record<string, new (config: never) => tf.layers.Layer>> = { MultiHeadAttention, PositionalEmbedding };
