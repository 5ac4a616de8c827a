/**
 * An execution plan: a runtime model bound to buffers for up to `capacity` examples. Every tensor,
 * gradient and kernel scratch buffer is allocated here, once; forward and backward then only read
 * and write them. A call may process fewer rows than the capacity (the last, partial batch).
 */
import type { RuntimeModel } from "./model.ts";
import { allocBuf, type Buf, type LayerKernel } from "../core/kernel.ts";
import { placer } from "../core/simd/index.ts";

export interface PlanOptions {
  /** Allocate gradients and run backward. */
  train?: boolean;
  /** Also compute gradients with respect to the model's inputs (gradient checks). */
  inputGrads?: boolean;
}

export class Plan {
  /** One buffer per tensor of the model, `capacity` rows each. */
  readonly values: Buf[];
  /** Gradient buffers per tensor (null where none is needed). */
  readonly grads: (Buf | null)[];
  private readonly kernels: LayerKernel[];
  /** Indices of the layers whose backward runs, in reverse order. */
  private readonly backwardOrder: number[];
  readonly train: boolean;
  /** Bytes this plan has allocated: tensors, gradients and kernel scratch, that too which kernels ask for later (parameters not included). */
  get bytes(): number {
    return this.allocated;
  }
  private allocated = 0;

  constructor(
    readonly model: RuntimeModel,
    readonly capacity: number,
    opts: PlanOptions = {},
  ) {
    const m = model;
    const p = m.precision;
    // float32 buffers lie in the SIMD module's memory where it can hold them, so its kernels read
    // and write them there; they are released with the plan
    const place = placer(this);
    const alloc = (n: number, what: string): Buf => {
      const b = allocBuf(p, n, `${what} for a batch of ${capacity}`, place);
      this.allocated += b.byteLength;
      return b;
    };
    this.train = opts.train === true;
    if (this.train) m.ensureGrads();
    this.values = m.tensors.map((t) => alloc(capacity * t.size, `\`${t.name}\``));
    // Which layers lie on a path to an output: only those need a backward pass.
    const live = new Set<number>(m.outputs);
    const liveLayers: boolean[] = m.layers.map(() => false);
    for (let i = m.layers.length - 1; i >= 0; i--) {
      const l = m.layers[i];
      if (!live.has(l.output) && !l.more?.some((t) => live.has(t))) continue;
      liveLayers[i] = true;
      // every output of a live layer gets a gradient buffer: zeros where nothing reads it
      live.add(l.output);
      for (const t of l.more ?? []) live.add(t);
      for (const t of l.inputs) live.add(t);
    }
    const isInput = new Set(m.inputs);
    this.grads = m.tensors.map((t, i) => (this.train && live.has(i) && (!isInput.has(i) || opts.inputGrads) ? alloc(capacity * t.size, `the gradient of \`${t.name}\``) : null));
    // Backward walks layers in reverse: the first consumer to reach a tensor writes its gradient,
    // later ones add. The loss writes the outputs' gradients before any layer.
    const written = new Set<number>(m.outputs);
    const addFlags: boolean[][] = [];
    for (let i = m.layers.length - 1; i >= 0; i--) {
      addFlags[i] = m.layers[i].inputs.map((t) => {
        const seen = written.has(t);
        written.add(t);
        return seen;
      });
    }
    this.kernels = m.layers.map((l, i) =>
      l.factory.bind({
        layer: l.info,
        capacity,
        precision: p,
        ins: l.inputs.map((t) => this.values[t]),
        masks: l.inputs.map((_, i) => (i === 0 && l.maskIds !== undefined ? this.values[l.maskIds] : null)),
        out: this.values[l.output],
        params: l.params.map((q) => q.value),
        dIns: l.inputs.map((t) => (liveLayers[i] ? this.grads[t] : null)),
        addIns: addFlags[i],
        dOut: liveLayers[i] ? this.grads[l.output] : null,
        more: (l.more ?? []).map((t) => this.values[t]),
        dMore: (l.more ?? []).map((t) => (liveLayers[i] ? this.grads[t] : null)),
        dParams: l.params.map((q) => (this.train && liveLayers[i] ? q.grad : null)),
        alloc: (n: number) => alloc(n, `scratch space of layer \`${l.info.name}\``),
        get rng() {
          return l.rng;
        },
      }),
    );
    this.backwardOrder = [];
    if (this.train) for (let i = m.layers.length - 1; i >= 0; i--) if (liveLayers[i]) this.backwardOrder.push(i);
  }

  /** The buffer of model input `i`: write n rows here before `forward`. */
  input(i = 0): Buf {
    return this.values[this.model.inputs[i]];
  }
  output(i = 0): Buf {
    return this.values[this.model.outputs[i]];
  }
  /** Gradient of model output `i`: the loss writes it before `backward`. */
  outputGrad(i = 0): Buf | null {
    return this.grads[this.model.outputs[i]];
  }
  inputGrad(i = 0): Buf | null {
    return this.grads[this.model.inputs[i]];
  }

  forward(n: number, training: boolean): void {
    if (n > this.capacity) throw new Error(`batch of ${n} rows exceeds the plan's capacity ${this.capacity}`);
    const ks = this.kernels;
    for (let i = 0; i < ks.length; i++) ks[i].forward(n, training);
  }

  /** Reverse pass after `forward(n, true)` and after the output gradients were written. */
  backward(n: number): void {
    if (!this.train) throw new Error("this plan was built for inference only");
    const ks = this.kernels;
    const order = this.backwardOrder;
    for (let i = 0; i < order.length; i++) ks[order[i]].backward(n);
  }
}
