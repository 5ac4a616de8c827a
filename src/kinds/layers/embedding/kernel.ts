/** Embedding kernel: a row lookup forward, a scatter-add into the table backward. Ids outside
 * [0, vocab) read zeros and get no gradient. */
import { initSpec } from "../../../core/init.ts";
import { num, size, type KernelFactory } from "../../../core/kernel.ts";

export const embeddingKernel: KernelFactory = {
  params: (l) => [{ name: "embeddings", shape: [num(l.opts.vocab, 1), num(l.opts.dim, 1)], init: initSpec(l.opts.init, "random_uniform"), trainable: true, l1: num(l.opts.l1, 0), l2: num(l.opts.l2, 0) }],
  bind(b) {
    const vocab = num(b.layer.opts.vocab, 1);
    const dim = num(b.layer.opts.dim, 1);
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
