/**
 * Convolution kernels (conv1d, conv2d; channels last) by im2col: each output position's receptive
 * field is copied into a row, so the layer becomes one matmul + bias + activation like dense.
 * conv1d is conv2d with a height of one. On SIMD (src/core/simd) the rows are gathered inside the
 * WebAssembly memory and gathered again for the backward pass, so no copy of them is kept here.
 */
export type { Window2d };
import { booleanOption, numberOption } from "../../../core/options.ts";
import { perAxis } from "../common.ts";
import { colSums, gemm } from "../../../core/gemm.ts";
import { simdConv, simdLinearBackward, type Window2d } from "../../../core/simd/index.ts";
import { initSpec } from "../../../core/init.ts";
import { type Buf, type KernelFactory, type LayerInfo, type ParamDecl } from "../../../core/kernel.ts";
import { actBackward, actForward, activationOf, ActKind, needsPreactivation } from "../activations/kernel.ts";


/** Window geometry exactly as TensorFlow.js pads: `same` splits the padding, the extra row/column after. */
export function windowGeometry(l: LayerInfo, axes: number, kernel: number[], stride: number[], dilation: number[]): Window2d {
  const s = l.inShapes[0];
  const o = l.outShape;
  const same = l.opts.padding === "same";
  const pad = (n: number, out: number, k: number, st: number, d: number) => (same ? Math.floor(Math.max(0, (out - 1) * st + (k - 1) * d + 1 - n) / 2) : 0);
  if (axes === 1) {
    return { h: 1, w: s[0], c: s[1], oh: 1, ow: o[0], kh: 1, kw: kernel[0], sh: 1, sw: stride[0], dh: 1, dw: dilation[0], padT: 0, padL: pad(s[0], o[0], kernel[0], stride[0], dilation[0]) };
  }
  return {
    h: s[0],
    w: s[1],
    c: s[2],
    oh: o[0],
    ow: o[1],
    kh: kernel[0],
    kw: kernel[1],
    sh: stride[0],
    sw: stride[1],
    dh: dilation[0],
    dw: dilation[1],
    padT: pad(s[0], o[0], kernel[0], stride[0], dilation[0]),
    padL: pad(s[1], o[1], kernel[1], stride[1], dilation[1]),
  };
}

/** cols[n·oh·ow, kh·kw·c] ← receptive fields of x[n, h, w, c] (zeros outside). */
function im2col(g: Window2d, n: number, x: Buf, cols: Buf): void {
  const { h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, padT, padL } = g;
  const K = kh * kw * c;
  let r = 0;
  for (let b = 0; b < n; b++) {
    const xb = b * h * w * c;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, r++) {
        let o = r * K;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padT + ky * dh;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padL + kx * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
              for (let ch = 0; ch < c; ch++) cols[o + ch] = 0;
            } else {
              const xi = xb + (iy * w + ix) * c;
              for (let ch = 0; ch < c; ch++) cols[o + ch] = x[xi + ch];
            }
            o += c;
          }
        }
      }
    }
  }
}

/** dx[n, h, w, c] += scatter of dcols (the reverse of im2col). */
function col2im(g: Window2d, n: number, dcols: Buf, dx: Buf): void {
  const { h, w, c, oh, ow, kh, kw, sh, sw, dh, dw, padT, padL } = g;
  const K = kh * kw * c;
  let r = 0;
  for (let b = 0; b < n; b++) {
    const xb = b * h * w * c;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, r++) {
        let o = r * K;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - padT + ky * dh;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - padL + kx * dw;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
              const xi = xb + (iy * w + ix) * c;
              for (let ch = 0; ch < c; ch++) dx[xi + ch] += dcols[o + ch];
            }
            o += c;
          }
        }
      }
    }
  }
}

const convKernel = (axes: number): KernelFactory => ({
  params(l) {
    const k = perAxis(l.opts.kernel, axes, 1);
    const cin = l.inShapes[0][axes];
    const filters = l.outShape[axes];
    const p: ParamDecl[] = [{ name: "kernel", shape: [...k, cin, filters], init: initSpec(l.opts.kernel_init), trainable: true, l1: numberOption(l.opts, "l1"), l2: numberOption(l.opts, "l2") }];
    if (booleanOption(l.opts, "use_bias")) p.push({ name: "bias", shape: [filters], init: initSpec(l.opts.bias_init), trainable: true });
    return p;
  },
  bind(b) {
    const l = b.layer;
    const g = windowGeometry(l, axes, perAxis(l.opts.kernel, axes, 1), perAxis(l.opts.stride, axes, 1), perAxis(l.opts.dilation, axes, 1));
    const F = l.outShape[axes];
    const K = g.kh * g.kw * g.c;
    const P = g.oh * g.ow;
    // A 1×1 window with stride 1 and no padding reads the input as it is.
    const direct = g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.padT === 0 && g.padL === 0;
    // (allocated when the scalar path first runs)
    let cols: Buf | null = direct ? b.ins[0] : null;
    const colsOf = (): Buf => (cols ??= b.alloc(b.capacity * P * K));
    // whether the columns hold this batch's windows (the scalar forward pass leaves them, SIMD does not)
    let gathered = false;
    const act = activationOf(l.opts.activation);
    const linear = act.kind === ActKind.Linear;
    // relu is applied by the product as it stores (one pass over the output less)
    const fusedRelu = act.kind === ActKind.Relu && !needsPreactivation(act);
    const z = needsPreactivation(act) ? b.alloc(b.capacity * P * F) : null;
    const x = b.ins[0];
    const y = b.out;
    const [w, bias] = b.params;
    return {
      forward(n, training) {
        const rows = n * P;
        const target = z ?? y;
        gathered = false;
        // (a training pass keeps its windows for the backward pass where SIMD can gather them there)
        const done = direct ? false : simdConv(g, n, x, w, F, bias ?? null, fusedRelu, target, training && b.dParams[0] ? colsOf() : null);
        if (done === "kept") gathered = true;
        else if (!done) {
          if (!direct) im2col(g, n, x, colsOf());
          gathered = true;
          gemm(rows, F, K, colsOf(), 0, K, 1, w, 0, F, 1, target, 0, F, false, bias ?? null, fusedRelu);
        }
        if (!linear && !fusedRelu) actForward(act, target, y, rows * F, F);
      },
      backward(n) {
        const rows = n * P;
        const dz = b.dOut!;
        if (!linear && !fusedRelu) actBackward(act, z, y, dz, dz, rows * F, F, false);
        const [dw, db] = b.dParams;
        const dx = b.dIns[0];
        // (on SIMD relu's gradient is applied inside the module)
        if (simdLinearBackward(direct ? null : g, direct ? rows : n, x, dz, fusedRelu ? y : null, w, F, dw ?? null, db ?? null, dx ?? null, b.addIns[0], gathered ? cols : null)) return;
        if (fusedRelu) actBackward(act, z, y, dz, dz, rows * F, F, false);
        const c = colsOf();
        if (!gathered && dw) im2col(g, n, x, c);
        if (dw) gemm(K, F, rows, c, 0, 1, K, dz, 0, F, 1, dw, 0, F, false);
        if (db) colSums(rows, F, dz, db, false);
        if (!dx) return;
        if (direct) {
          gemm(rows, K, F, dz, 0, F, 1, w, 0, 1, F, dx, 0, K, b.addIns[0]);
          return;
        }
        // The columns are no longer needed: reuse them for their gradient.
        gemm(rows, K, F, dz, 0, F, 1, w, 0, 1, F, c, 0, K, false);
        if (!b.addIns[0]) dx.fill(0, 0, n * g.h * g.w * g.c);
        col2im(g, n, c, dx);
      },
    };
  },
});

export const conv1dKernel = convKernel(1);
export const conv2dKernel = convKernel(2);
