/** Dropout kernel: a seeded mask of 0 or 1/(1 − rate) in training, the identity at inference. */
import { numberOption } from "../../../core/options.ts";
import { size, type KernelFactory } from "../../../core/kernel.ts";

export const dropoutKernel: KernelFactory = {
  params: () => [],
  bind(b) {
    const rate = numberOption(b.layer.opts, "rate");
    const elems = size(b.layer.outShape);
    const mask = b.alloc(b.capacity * elems);
    const keep = 1 / (1 - rate);
    const x = b.ins[0];
    const y = b.out;
    let masked = false;
    return {
      forward(n, training) {
        const len = n * elems;
        masked = training && rate > 0;
        if (!masked) {
          for (let i = 0; i < len; i++) y[i] = x[i];
          return;
        }
        const rng = b.rng;
        for (let i = 0; i < len; i++) {
          // TensorFlow.js keeps a value when floor(u + 1 - rate) = 1, that is u ≥ rate.
          const m = rng.uniform() >= rate ? keep : 0;
          mask[i] = m;
          y[i] = x[i] * m;
        }
      },
      backward(n) {
        const dx = b.dIns[0];
        if (!dx) return;
        const dy = b.dOut!;
        const len = n * elems;
        const add = b.addIns[0];
        for (let i = 0; i < len; i++) {
          const g = masked ? dy[i] * mask[i] : dy[i];
          if (add) dx[i] += g;
          else dx[i] = g;
        }
      },
    };
  },
};
