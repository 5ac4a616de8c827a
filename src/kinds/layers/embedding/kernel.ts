/** Embedding kernel: a row lookup forward, a scatter-add into the table backward. Ids outside
 * [0, vocab) read zeros and get no gradient. */
import { numberOption } from "../../../core/options.ts";
import { initSpec } from "../../../core/init.ts";
import { size, type KernelFactory } from "../../../core/kernel.ts";

export const embeddingKernel: KernelFactory = {
  params: (l) => [{ name: "embeddings", shape: [numberOption(l.opts, "vocab"), numberOption(l.opts, "dim")], init: initSpec(l.opts.init), trainable: true, l1: numberOption(l.opts, "l1"), l2: numberOption(l.opts, "l2") }],
  bind(b) {
    const vocab = numberOption(b.layer.opts, "vocab");
    const dim = numberOption(b.layer.opts, "dim");
    const ids = size(b.layer.inShapes[0]);
    const x = b.ins[0];
    const y = b.out;
    const table = b.params[0];
    return {
      forward(n) {
        const len = n * ids;
        for (let i = 0; i < len; i++) {
          const id = Math.trunc(x[i]);
          const o = i * dim;
          if (id >= 0 && id < vocab) {
            const t = id * dim;
            for (let j = 0; j < dim; j++) y[o + j] = table[t + j];
          } else for (let j = 0; j < dim; j++) y[o + j] = 0;
        }
      },
      backward(n) {
        const dt = b.dParams[0];
        if (!dt) return;
        const dy = b.dOut!;
        dt.fill(0);
        const len = n * ids;
        for (let i = 0; i < len; i++) {
          const id = Math.trunc(x[i]);
          if (id < 0 || id >= vocab) continue;
          const o = i * dim;
          const t = id * dim;
          for (let j = 0; j < dim; j++) dt[t + j] += dy[o + j];
        }
      },
    };
  },
};
