/**
 * Normalization kernels. batchnorm normalizes each channel (the last axis) with the batch's mean and
 * biased variance in training, updating the moving statistics as TensorFlow.js does
 * (moving ← moving − (moving − batch)·(1 − momentum)), and with the moving statistics at inference.
 * layernorm normalizes each example over its last axis.
 */
import { booleanOption, numberOption } from "../../../core/options.ts";
import { size, type KernelFactory, type ParamDecl } from "../../../core/kernel.ts";

function affineParams(opts: Record<string, unknown>, c: number): ParamDecl[] {
  const p: ParamDecl[] = [];
  if (opts.scale !== false) p.push({ name: "gamma", shape: [c], init: { name: "ones" }, trainable: true });
  if (opts.center !== false) p.push({ name: "beta", shape: [c], init: { name: "zeros" }, trainable: true });
  return p;
}

export const batchnormKernel: KernelFactory = {
  params(l) {
    const c = l.outShape[l.outShape.length - 1];
    return [
      ...affineParams(l.opts, c),
      { name: "moving_mean", shape: [c], init: { name: "zeros" }, trainable: false },
      { name: "moving_variance", shape: [c], init: { name: "ones" }, trainable: false },
    ];
  },
  bind(b) {
    const l = b.layer;
    const C = l.outShape[l.outShape.length - 1];
    const per = size(l.outShape) / C;
    const eps = numberOption(l.opts, "epsilon");
    const momentum = numberOption(l.opts, "momentum");
    const hasScale = booleanOption(l.opts, "scale");
    const hasCenter = booleanOption(l.opts, "center");
    let k = 0;
    const gamma = hasScale ? b.params[k++] : null;
    const gi = hasScale ? k - 1 : -1;
    const beta = hasCenter ? b.params[k++] : null;
    const bi = hasCenter ? k - 1 : -1;
    const mm = b.params[k++];
    const mv = b.params[k++];
    const x = b.ins[0];
    const y = b.out;
    const xhat = b.alloc(b.capacity * size(l.outShape));
    const mean = new Float64Array(C);
    const varc = new Float64Array(C);
    const inv = new Float64Array(C);
    const s1 = new Float64Array(C);
    const s2 = new Float64Array(C);
    return {
      forward(n, training) {
        const rows = n * per;
        if (training) {
          mean.fill(0);
          varc.fill(0);
          for (let r = 0; r < rows; r++) for (let c = 0, o = r * C; c < C; c++) mean[c] += x[o + c];
          for (let c = 0; c < C; c++) mean[c] /= rows;
          for (let r = 0; r < rows; r++)
            for (let c = 0, o = r * C; c < C; c++) {
              const d = x[o + c] - mean[c];
              varc[c] += d * d;
            }
          for (let c = 0; c < C; c++) {
            varc[c] /= rows;
            inv[c] = 1 / Math.sqrt(varc[c] + eps);
            mm[c] = mm[c] - (mm[c] - mean[c]) * (1 - momentum);
            mv[c] = mv[c] - (mv[c] - varc[c]) * (1 - momentum);
          }
        } else {
          for (let c = 0; c < C; c++) {
            mean[c] = mm[c];
            inv[c] = 1 / Math.sqrt(mv[c] + eps);
          }
        }
        for (let r = 0; r < rows; r++)
          for (let c = 0, o = r * C; c < C; c++) {
            const h = (x[o + c] - mean[c]) * inv[c];
            xhat[o + c] = h;
            y[o + c] = (gamma ? gamma[c] * h : h) + (beta ? beta[c] : 0);
          }
      },
      backward(n) {
        const rows = n * per;
        const dy = b.dOut!;
        s1.fill(0);
        s2.fill(0);
        for (let r = 0; r < rows; r++)
          for (let c = 0, o = r * C; c < C; c++) {
            s1[c] += dy[o + c];
            s2[c] += dy[o + c] * xhat[o + c];
          }
        const dg = gi >= 0 ? b.dParams[gi] : null;
        const db = bi >= 0 ? b.dParams[bi] : null;
        if (dg) for (let c = 0; c < C; c++) dg[c] = s2[c];
        if (db) for (let c = 0; c < C; c++) db[c] = s1[c];
        const dx = b.dIns[0];
        if (!dx) return;
        const add = b.addIns[0];
        // dx = γ·inv/N · (N·dy − Σdy − x̂·Σ(dy·x̂))
        for (let c = 0; c < C; c++) {
          const g = gamma ? gamma[c] : 1;
          s1[c] /= rows;
          s2[c] /= rows;
          varc[c] = g * inv[c];
        }
        for (let r = 0; r < rows; r++)
          for (let c = 0, o = r * C; c < C; c++) {
            const v = varc[c] * (dy[o + c] - s1[c] - xhat[o + c] * s2[c]);
            if (add) dx[o + c] += v;
            else dx[o + c] = v;
          }
      },
    };
  },
};

export const layernormKernel: KernelFactory = {
  params: (l) => affineParams(l.opts, l.outShape[l.outShape.length - 1]),
  bind(b) {
    const l = b.layer;
    const C = l.outShape[l.outShape.length - 1];
    const per = size(l.outShape) / C;
    const eps = numberOption(l.opts, "epsilon");
    const hasScale = booleanOption(l.opts, "scale");
    const hasCenter = booleanOption(l.opts, "center");
    const gamma = hasScale ? b.params[0] : null;
    const beta = hasCenter ? b.params[hasScale ? 1 : 0] : null;
    const x = b.ins[0];
    const y = b.out;
    const xhat = b.alloc(b.capacity * size(l.outShape));
    const inv = new Float64Array(b.capacity * per);
    return {
      forward(n) {
        const rows = n * per;
        for (let r = 0; r < rows; r++) {
          const o = r * C;
          let m = 0;
          for (let c = 0; c < C; c++) m += x[o + c];
          m /= C;
          let v = 0;
          for (let c = 0; c < C; c++) {
            const d = x[o + c] - m;
            v += d * d;
          }
          const is = 1 / Math.sqrt(v / C + eps);
          inv[r] = is;
          for (let c = 0; c < C; c++) {
            const h = (x[o + c] - m) * is;
            xhat[o + c] = h;
            y[o + c] = (gamma ? gamma[c] * h : h) + (beta ? beta[c] : 0);
          }
        }
      },
      backward(n) {
        const rows = n * per;
        const dy = b.dOut!;
        const dg = gamma ? b.dParams[0] : null;
        const db = beta ? b.dParams[gamma ? 1 : 0] : null;
        if (dg) dg.fill(0, 0, C);
        if (db) db.fill(0, 0, C);
        const dx = b.dIns[0];
        const add = b.addIns[0];
        for (let r = 0; r < rows; r++) {
          const o = r * C;
          let a1 = 0;
          let a2 = 0;
          for (let c = 0; c < C; c++) {
            const g = dy[o + c];
            if (dg) dg[c] += g * xhat[o + c];
            if (db) db[c] += g;
            const dh = gamma ? g * gamma[c] : g;
            a1 += dh;
            a2 += dh * xhat[o + c];
          }
          if (!dx) continue;
          a1 /= C;
          a2 /= C;
          const is = inv[r];
          for (let c = 0; c < C; c++) {
            const dh = gamma ? dy[o + c] * gamma[c] : dy[o + c];
            const v = is * (dh - a1 - xhat[o + c] * a2);
            if (add) dx[o + c] += v;
            else dx[o + c] = v;
          }
        }
      },
    };
  },
};
