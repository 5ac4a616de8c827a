/**
 * Pooling kernels, channels last. Max pooling remembers where each maximum came from; average
 * pooling with `same` padding divides by the number of values inside the input (as TensorFlow does).
 */
import { perAxis } from "../common.ts";
import { int32, type KernelFactory, type LayerInfo } from "../../../core/kernel.ts";
import { windowGeometry, type Window2d } from "../conv/kernel.ts";
import { simdMaxPool, simdMaxPoolBackward } from "../../../core/simd/index.ts";


function geometry(l: LayerInfo, axes: number): Window2d {
  const p = perAxis(l.opts.pool, axes, 2);
  const st = l.opts.stride === undefined ? p : perAxis(l.opts.stride, axes, 1);
  return windowGeometry(l, axes, p, st, Array(axes).fill(1));
}

const poolKernel = (axes: number, max: boolean): KernelFactory => ({
  params: () => [],
  bind(b) {
    const g = geometry(b.layer, axes);
    const { h, w, c, oh, ow, kh, kw, sh, sw, padT, padL } = g;
    const P = oh * ow;
    const x = b.ins[0];
    const y = b.out;
    // (the plan's scratch, which SIMD's max pooling fills where it lies)
    const arg = max ? int32(b.alloc(b.capacity * P * c)) : null;
    const count = max ? null : new Float64Array(P);
    if (count) {
      for (let oy = 0, r = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++, r++) {
          let k = 0;
          for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
            const iy = oy * sh - padT + ky;
            const ix = ox * sw - padL + kx;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) k++;
          }
          count[r] = k;
        }
    }
    return {
      forward(n) {
        if (arg && simdMaxPool(g, n, x, y, arg)) return;
        for (let bi = 0; bi < n; bi++) {
          const xb = bi * h * w * c;
          for (let oy = 0; oy < oh; oy++)
            for (let ox = 0; ox < ow; ox++) {
              const r = oy * ow + ox;
              const yo = (bi * P + r) * c;
              for (let ch = 0; ch < c; ch++) y[yo + ch] = max ? -Infinity : 0;
              if (arg) for (let ch = 0; ch < c; ch++) arg[yo + ch] = -1;
              // the window's first cell is taken as it is, the others compared with it (no test of
              // `arg` per value: the comparisons are what is left to predict)
              let first = true;
              for (let ky = 0; ky < kh; ky++) {
                const iy = oy * sh - padT + ky;
                if (iy < 0 || iy >= h) continue;
                for (let kx = 0; kx < kw; kx++) {
                  const ix = ox * sw - padL + kx;
                  if (ix < 0 || ix >= w) continue;
                  const xi = xb + (iy * w + ix) * c;
                  if (arg && first) {
                    for (let ch = 0; ch < c; ch++) {
                      y[yo + ch] = x[xi + ch];
                      arg[yo + ch] = xi + ch;
                    }
                  } else if (arg) {
                    for (let ch = 0; ch < c; ch++) {
                      const v = x[xi + ch];
                      if (v > y[yo + ch]) {
                        y[yo + ch] = v;
                        arg[yo + ch] = xi + ch;
                      }
                    }
                  } else for (let ch = 0; ch < c; ch++) y[yo + ch] += x[xi + ch];
                  first = false;
                }
              }
              if (count) {
                const inv = 1 / count[r];
                for (let ch = 0; ch < c; ch++) y[yo + ch] *= inv;
              }
            }
        }
      },
      backward(n) {
        const dx = b.dIns[0];
        if (!dx) return;
        const dy = b.dOut!;
        const zero = b.addIns[0] ? 0 : n * h * w * c;
        if (arg && simdMaxPoolBackward(dx, dy, arg, n * P * c, zero, n)) return;
        dx.fill(0, 0, zero);
        if (arg) {
          const len = n * P * c;
          for (let i = 0; i < len; i++) dx[arg[i]] += dy[i];
          return;
        }
        for (let bi = 0; bi < n; bi++) {
          const xb = bi * h * w * c;
          for (let oy = 0; oy < oh; oy++)
            for (let ox = 0; ox < ow; ox++) {
              const r = oy * ow + ox;
              const yo = (bi * P + r) * c;
              const inv = 1 / count![r];
              for (let ky = 0; ky < kh; ky++) {
                const iy = oy * sh - padT + ky;
                if (iy < 0 || iy >= h) continue;
                for (let kx = 0; kx < kw; kx++) {
                  const ix = ox * sw - padL + kx;
                  if (ix < 0 || ix >= w) continue;
                  const xi = xb + (iy * w + ix) * c;
                  for (let ch = 0; ch < c; ch++) dx[xi + ch] += dy[yo + ch] * inv;
                }
              }
            }
        }
      },
    };
  },
});

const globalPoolKernel = (max: boolean): KernelFactory => ({
  params: () => [],
  bind(b) {
    const s = b.layer.inShapes[0];
    const c = s[s.length - 1];
    const P = s.slice(0, -1).reduce((a, d) => a * d, 1);
    const x = b.ins[0];
    const y = b.out;
    const arg = max ? new Int32Array(b.capacity * c) : null;
    return {
      forward(n) {
        for (let bi = 0; bi < n; bi++) {
          const yo = bi * c;
          const xb = bi * P * c;
          if (arg) {
            for (let ch = 0; ch < c; ch++) {
              y[yo + ch] = x[xb + ch];
              arg[yo + ch] = xb + ch;
            }
            for (let p = 1; p < P; p++) {
              const xi = xb + p * c;
              for (let ch = 0; ch < c; ch++)
                if (x[xi + ch] > y[yo + ch]) {
                  y[yo + ch] = x[xi + ch];
                  arg[yo + ch] = xi + ch;
                }
            }
          } else {
            for (let ch = 0; ch < c; ch++) y[yo + ch] = 0;
            for (let p = 0; p < P; p++) {
              const xi = xb + p * c;
              for (let ch = 0; ch < c; ch++) y[yo + ch] += x[xi + ch];
            }
            for (let ch = 0; ch < c; ch++) y[yo + ch] /= P;
          }
        }
      },
      backward(n) {
        const dx = b.dIns[0];
        if (!dx) return;
        const dy = b.dOut!;
        if (arg) {
          if (!b.addIns[0]) dx.fill(0, 0, n * P * c);
          for (let i = 0; i < n * c; i++) dx[arg[i]] += dy[i];
          return;
        }
        const add = b.addIns[0];
        const inv = 1 / P;
        for (let bi = 0; bi < n; bi++)
          for (let p = 0; p < P; p++) {
            const xi = (bi * P + p) * c;
            for (let ch = 0; ch < c; ch++) {
              const g = dy[bi * c + ch] * inv;
              if (add) dx[xi + ch] += g;
              else dx[xi + ch] = g;
            }
          }
      },
    };
  },
});

export const maxpool1dKernel = poolKernel(1, true);
export const avgpool1dKernel = poolKernel(1, false);
export const maxpool2dKernel = poolKernel(2, true);
export const avgpool2dKernel = poolKernel(2, false);
export const globalMaxpoolKernel = globalPoolKernel(true);
export const globalAvgpoolKernel = globalPoolKernel(false);
