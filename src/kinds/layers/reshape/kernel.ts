/** Reshape kernel: row-major data keeps its order, so forward and backward are copies. */
import { size, type KernelFactory } from "../../../core/kernel.ts";

export const copyKernel: KernelFactory = {
  params: () => [],
  bind(b) {
    const elems = size(b.layer.outShape);
    const x = b.ins[0];
    const y = b.out;
    return {
      forward(n) {
        const len = n * elems;
        for (let i = 0; i < len; i++) y[i] = x[i];
      },
      backward(n) {
        const dx = b.dIns[0];
        if (!dx) return;
        const dy = b.dOut!;
        const len = n * elems;
        if (b.addIns[0]) for (let i = 0; i < len; i++) dx[i] += dy[i];
        else for (let i = 0; i < len; i++) dx[i] = dy[i];
      },
    };
  },
};

export const reshapeKernel = copyKernel;
