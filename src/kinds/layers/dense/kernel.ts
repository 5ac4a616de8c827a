/** Dense kernel: one fused matmul + bias + activation forward, and its reverse. */
import { booleanOption, numberOption } from "../../../core/options.ts";
import { initSpec } from "../../../core/init.ts";
import { colSums, gemm } from "../../../core/gemm.ts";
import { type KernelFactory, type ParamDecl } from "../../../core/kernel.ts";
import { simdLinearBackward } from "../../../core/simd/index.ts";
import { actBackward, actForward, activationOf, ActKind, needsPreactivation } from "../activations/kernel.ts";

export const denseKernel: KernelFactory = {
  params(l) {
    const fin = l.inShapes[0][l.inShapes[0].length - 1];
    const units = l.outShape[l.outShape.length - 1];
    const p: ParamDecl[] = [{ name: "kernel", shape: [fin, units], init: initSpec(l.opts.kernel_init), trainable: true, l1: numberOption(l.opts, "l1"), l2: numberOption(l.opts, "l2") }];
    if (booleanOption(l.opts, "use_bias")) p.push({ name: "bias", shape: [units], init: initSpec(l.opts.bias_init), trainable: true });
    return p;
  },
  bind(b) {
    const l = b.layer;
    const fin = l.inShapes[0][l.inShapes[0].length - 1];
    const units = l.outShape[l.outShape.length - 1];
    const rowsPer = l.outShape.slice(0, -1).reduce((a, d) => a * d, 1);
    const act = activationOf(l.opts.activation);
    const linear = act.kind === ActKind.Linear;
    // relu is applied by the product as it stores (one pass over the output less)
    const fusedRelu = act.kind === ActKind.Relu && !needsPreactivation(act);
    const z = needsPreactivation(act) ? b.alloc(b.capacity * rowsPer * units) : null;
    const x = b.ins[0];
    const y = b.out;
    const [w, bias] = b.params;
    return {
      forward(n) {
        const rows = n * rowsPer;
        const target = z ?? y;
        gemm(rows, units, fin, x, 0, fin, 1, w, 0, units, 1, target, 0, units, false, bias ?? null, fusedRelu);
        if (!linear && !fusedRelu) actForward(act, target, y, rows * units, units);
      },
      backward(n) {
        const rows = n * rowsPer;
        const dz = b.dOut!;
        if (!linear && !fusedRelu) actBackward(act, z, y, dz, dz, rows * units, units, false);
        const [dw, db] = b.dParams;
        const dx = b.dIns[0];
        // (on SIMD dz is copied into the module once, and relu's gradient applied there)
        if (simdLinearBackward(null, rows, x, dz, fusedRelu ? y : null, w, units, dw ?? null, db ?? null, dx ?? null, b.addIns[0])) return;
        if (fusedRelu) actBackward(act, z, y, dz, dz, rows * units, units, false);
        if (dw) gemm(fin, units, rows, x, 0, 1, fin, dz, 0, units, 1, dw, 0, units, false);
        if (db) colSums(rows, units, dz, db, false);
        if (dx) gemm(rows, fin, units, dz, 0, units, 1, w, 0, 1, units, dx, 0, fin, b.addIns[0]);
      },
    };
  },
};
