/** Merge kernels: `add` sums its inputs; `concat` interleaves their blocks along one axis. */
import { numberOption } from "../../../core/options.ts";
import { size, type KernelFactory } from "../../../core/kernel.ts";

export const addKernel: KernelFactory = {
  params: () => [],
  bind(b) {
    const elems = size(b.layer.outShape);
    const y = b.out;
    return {
      forward(n) {
        const len = n * elems;
        const x0 = b.ins[0];
        for (let i = 0; i < len; i++) y[i] = x0[i];
        for (let k = 1; k < b.ins.length; k++) {
          const xk = b.ins[k];
          for (let i = 0; i < len; i++) y[i] += xk[i];
        }
      },
      backward(n) {
        const len = n * elems;
        const dy = b.dOut!;
        for (let k = 0; k < b.ins.length; k++) {
          const dx = b.dIns[k];
          if (!dx) continue;
          if (b.addIns[k]) for (let i = 0; i < len; i++) dx[i] += dy[i];
          else for (let i = 0; i < len; i++) dx[i] = dy[i];
        }
      },
    };
  },
};

export const concatKernel: KernelFactory = {
  params: () => [],
  bind(b) {
    const l = b.layer;
    const rank = l.outShape.length;
    const opt = numberOption(l.opts, "axis");
    // The axis counts the batch as 0; -1 is the last.
    const axis = opt < 0 ? rank + opt : opt - 1;
    const outer = size(l.outShape.slice(0, axis));
    const chunks = l.inShapes.map((s) => size(s.slice(axis)));
    const width = size(l.outShape.slice(axis));
    const y = b.out;
    return {
      forward(n) {
        const rows = n * outer;
        let off = 0;
        for (let k = 0; k < chunks.length; k++) {
          const c = chunks[k];
          const x = b.ins[k];
          for (let r = 0; r < rows; r++) {
            const yo = r * width + off;
            const xo = r * c;
            for (let j = 0; j < c; j++) y[yo + j] = x[xo + j];
          }
          off += c;
        }
      },
      backward(n) {
        const rows = n * outer;
        const dy = b.dOut!;
        let off = 0;
        for (let k = 0; k < chunks.length; k++) {
          const c = chunks[k];
          const dx = b.dIns[k];
          if (dx) {
            const add = b.addIns[k];
            for (let r = 0; r < rows; r++) {
              const yo = r * width + off;
              const xo = r * c;
              if (add) for (let j = 0; j < c; j++) dx[xo + j] += dy[yo + j];
              else for (let j = 0; j < c; j++) dx[xo + j] = dy[yo + j];
            }
          }
          off += c;
        }
      },
    };
  },
};
