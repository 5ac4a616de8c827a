/**
 * Positions added to a [steps, features] sequence: learned vectors (`embeddings` [steps, features])
 * or fixed sinusoids (Vaswani et al.; keras_hub's SinePositionEncoding): feature i of step p is
 * sin(p / w^(2⌊i/2⌋/d)) for even i and cos(…) for odd i, with w the maximum wavelength.
 */
import { numberOption } from "../../../core/options.ts";
import { initSpec } from "../../../core/init.ts";
import type { KernelFactory } from "../../../core/kernel.ts";

/** The fixed encoding of `steps` positions in `width` features, row-major. */
export function sinusoids(steps: number, width: number, maxWavelength: number): Float64Array {
  const out = new Float64Array(steps * width);
  for (let p = 0; p < steps; p++)
    for (let i = 0; i < width; i++) {
      const angle = p * Math.pow(maxWavelength, -(2 * Math.floor(i / 2)) / width);
      out[p * width + i] = i % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  return out;
}

export const positionKernel: KernelFactory = {
  params: (l) => (l.opts.mode === "learned" ? [{ name: "embeddings", shape: [...l.inShapes[0]], init: initSpec(l.opts.init), trainable: true }] : []),
  bind(b) {
    const [T, d] = b.layer.inShapes[0];
    const per = T * d;
    const learned = b.layer.opts.mode === "learned";
    const fixed = learned ? null : sinusoids(T, d, numberOption(b.layer.opts, "max_wavelength"));
    const x = b.ins[0];
    const y = b.out;
    return {
      forward(n) {
        const P = learned ? b.params[0] : fixed!;
        for (let i = 0; i < n; i++) for (let e = 0; e < per; e++) y[i * per + e] = x[i * per + e] + P[e];
      },
      backward(n) {
        const dy = b.dOut!;
        const dP = learned ? b.dParams[0] : null;
        if (dP) {
          dP.fill(0);
          for (let i = 0; i < n; i++) for (let e = 0; e < per; e++) dP[e] += dy[i * per + e];
        }
        const dx = b.dIns[0];
        if (!dx) return;
        if (b.addIns[0]) for (let e = 0; e < n * per; e++) dx[e] += dy[e];
        else dx.set(dy.subarray(0, n * per));
      },
    };
  },
};
