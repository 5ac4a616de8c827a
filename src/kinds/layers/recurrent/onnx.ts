/**
 * A recurrent layer as ONNX's RNN, GRU or LSTM operator: Keras's weights with the gates in ONNX's
 * order, a bidirectional layer as one operator of two directions, `go_backwards` as the reverse
 * direction (with the steps returned in the order Keras reads them), and a padding mask as packed
 * steps with their count (`sequence_lens`).
 */
import type { OnnxMapping } from "../../onnx.ts";
import { gatesOf, mergeOf, type Cell } from "./kernel.ts";

/** ONNX's names of the activations a recurrent operator takes. */
const ONNX_ACTIVATION: Record<string, string> = {
  tanh: "Tanh",
  sigmoid: "Sigmoid",
  hard_sigmoid: "HardSigmoid",
  relu: "Relu",
};

export function recurrentOnnx(cell: Cell): OnnxMapping {
  const gates = gatesOf(cell);
  return (opts, x, [s], _out, g) => {
    const u = opts.units as number;
    const T = s[0];
    const merge = mergeOf(opts);
    // Keras's bidirectional layer around a `go_backwards` one runs its forward layer backwards and its
    // backward layer forwards: ONNX's first direction then takes the backward layer's weights
    const flip = merge !== "off" && opts.go_backwards === true;
    const dirs = merge === "off" ? [""] : flip ? [`backward_${cell}/`, `forward_${cell}/`] : [`forward_${cell}/`, `backward_${cell}/`];
    const D = dirs.length;
    // Keras's gate blocks → ONNX's: an LSTM's i, f, c, o → i, o, f, c; a GRU's z, r, h and an RNN's one stay
    const order = cell === "lstm" ? [0, 3, 1, 2] : Array.from({ length: gates }, (_, k) => k);
    const gated = (m: Float32Array, rows: number): Float32Array => {
      // [rows, gates·u] with the gate blocks reordered, then transposed to [gates·u, rows]
      const out = new Float32Array(rows * gates * u);
      for (let k = 0; k < gates; k++) for (let j = 0; j < u; j++) for (let r = 0; r < rows; r++) out[(k * u + j) * rows + r] = m[r * gates * u + order[k] * u + j];
      return out;
    };
    const stack = (part: (d: string) => Float32Array, size: number): Float32Array => {
      const out = new Float32Array(D * size);
      dirs.forEach((d, i) => out.set(part(d), i * size));
      return out;
    };
    const W = stack((d) => gated(g.param(`${d}kernel`).values, s[1]), gates * u * s[1]);
    const R = stack((d) => gated(g.param(`${d}recurrent_kernel`).values, u), gates * u * u);
    const reorder = (b: Float32Array): Float32Array => Float32Array.from({ length: gates * u }, (_, i) => b[order[Math.floor(i / u)] * u + (i % u)]);
    const B = g.has(`${dirs[0]}bias`)
      ? stack(
          (d) => {
            const b = g.param(`${d}bias`).values;
            // [input bias, recurrent bias]; one Keras bias is the input one (GRU reset_after keeps two)
            const two = b.length === 2 * gates * u;
            const out = new Float32Array(2 * gates * u);
            out.set(reorder(b.subarray(0, gates * u)), 0);
            if (two) out.set(reorder(b.subarray(gates * u)), gates * u);
            return out;
          },
          2 * gates * u,
        )
      : undefined;
    const fn = (a: unknown): string => {
      const f = ONNX_ACTIVATION[a as string];
      if (!f) throw new Error(`a recurrent layer's \`${String(a)}\` activation has no ONNX form`);
      return f;
    };
    const acts =
      cell === "simple_rnn" ? [fn(opts.activation)] : cell === "gru" ? [fn(opts.recurrent_activation), fn(opts.activation)] : [fn(opts.recurrent_activation), fn(opts.activation), fn(opts.activation)];
    const all = Array.from({ length: D }, () => acts).flat();
    const hard = all.filter((a) => a === "HardSigmoid").length;
    // ONNX Runtime runs these operators time-major only: [steps, batch, features] in, [steps, directions, batch, units] out
    const init = x.slice(1).map((h) => g.op("Unsqueeze", [h, g.ints([0])])[0]);
    let steps = x[0];
    let lens = "";
    let kept = "";
    if (g.ids) {
      // A padded step leaves the state as it is: running over the unpadded steps alone, moved to the
      // front in order (a stable sort on step + T·padded), for their count, ends in the same state.
      kept = g.op("Cast", [g.op("Not", [g.op("Equal", [g.op("Cast", [g.ids], { to: { i: 7 } })[0], g.ints([0], [])])[0]])[0]], { to: { i: 1 } })[0];
      const key = g.op("Add", [
        g.floats(
          Float32Array.from({ length: T }, (_, t) => t),
          [T],
        ),
        g.op("Mul", [g.op("Sub", [g.floats([1], []), kept])[0], g.floats([T], [])])[0],
      ])[0];
      const order = g.op("TopK", [key, g.ints([T])], { axis: { i: 1 }, largest: { i: 0 }, sorted: { i: 1 } }, 2)[1];
      const index = g.op("Expand", [g.op("Unsqueeze", [order, g.ints([2])])[0], g.op("Shape", [x[0]])[0]])[0];
      steps = g.op("GatherElements", [x[0], index], { axis: { i: 1 } })[0];
      lens = g.op("Cast", [g.op("ReduceSum", [kept, g.ints([1])], { keepdims: { i: 0 } })[0]], { to: { i: 6 } })[0];
    }
    const X = g.op("Transpose", [steps], { perm: { ints: [1, 0, 2] } })[0];
    const inputs = [X, g.floats(W, [D, gates * u, s[1]]), g.floats(R, [D, gates * u, u]), B ? g.floats(B, [D, 2 * gates * u]) : "", lens, ...init];
    const [Yt, Yht, Yct] = g.op(
      cell === "simple_rnn" ? "RNN" : cell.toUpperCase(),
      inputs,
      {
        hidden_size: { i: u },
        direction: {
          s: D === 2 ? "bidirectional" : opts.go_backwards === true ? "reverse" : "forward",
        },
        activations: { strings: all },
        // tfjs's hard sigmoid, 0.2·x + 0.5 clipped to [0, 1]
        ...(hard
          ? {
              activation_alpha: { floats: Array(hard).fill(0.2) },
              activation_beta: { floats: Array(hard).fill(0.5) },
            }
          : {}),
        ...(cell === "gru" ? { linear_before_reset: { i: opts.reset_after === true ? 1 : 0 } } : {}),
      },
      cell === "lstm" ? 3 : 2,
    );
    // batch first: Y [batch, steps, directions, units]; Y_h, Y_c [batch, directions, units]
    const batchFirst = (t: string) => g.op("Transpose", [t], { perm: { ints: [1, 0, 2] } })[0];
    const reverse = (t: string, axis: number, n: number) => g.op("Slice", [t, g.ints([n - 1]), g.ints([-n - 1]), g.ints([axis]), g.ints([-1])])[0];
    const merged = (t: string, axis: number, shape: number[]): string => {
      if (D === 1 || merge === "concat") return g.op("Reshape", [t, g.ints([0, ...shape])])[0];
      if (merge === "sum")
        return g.op("ReduceSum", [t, g.ints([axis])], {
          keepdims: { i: 0 },
        })[0];
      return g.op(merge === "mul" ? "ReduceProd" : "ReduceMean", [t], {
        axes: { ints: [axis] },
        keepdims: { i: 0 },
      })[0];
    };
    const width = (merge === "concat" ? D : 1) * u;
    let out: string;
    if (opts.return_sequences === true) {
      let Y = g.op("Transpose", [Yt], { perm: { ints: [2, 0, 1, 3] } })[0];
      // With padding, step t's output is the state after the unpadded steps up to t (read forwards)
      // or from t on (backwards), zeros before the first: gathered back from the packed steps.
      if (kept) {
        const csum = g.op("CumSum", [kept, g.ints([1], [])])[0];
        const int64 = (t: string) => g.op("Cast", [t], { to: { i: 7 } })[0];
        const upTo = g.op("Max", [int64(g.op("Sub", [csum, g.floats([1], [])])[0]), g.ints([0], [])])[0];
        const seen = g.op("Unsqueeze", [
          g.op("Cast", [g.op("Greater", [csum, g.floats([0], [])])[0]], {
            to: { i: 1 },
          })[0],
          g.ints([2, 3]),
        ])[0];
        const from = int64(g.op("Sub", [csum, kept])[0]);
        const parts = Array.from({ length: D }, (_, d) => {
          const Yd = g.op("Slice", [Y, g.ints([d]), g.ints([d + 1]), g.ints([2])])[0];
          const backwards = D === 2 ? d === 1 : opts.go_backwards === true;
          const at = g.op("Expand", [g.op("Unsqueeze", [backwards ? from : upTo, g.ints([2, 3])])[0], g.op("Shape", [Yd])[0]])[0];
          const picked = g.op("GatherElements", [Yd, at], {
            axis: { i: 1 },
          })[0];
          return backwards ? picked : g.op("Mul", [picked, seen])[0];
        });
        Y = D === 2 ? g.op("Concat", parts, { axis: { i: 2 } })[0] : parts[0];
      }
      // Keras returns a backwards layer's steps in the order it read them (and, flipped, the
      // directions in Keras's order)
      if (opts.go_backwards === true) Y = reverse(Y, 1, T);
      if (flip) Y = reverse(Y, 2, 2);
      out = merged(Y, 2, [T, width]);
    } else {
      const Yh = batchFirst(Yht);
      out = merged(flip ? reverse(Yh, 1, 2) : Yh, 1, [width]);
    }
    if (opts.return_state !== true) return [out];
    // one direction: [directions = 1, batch, units] → [batch, units]
    const state = (t: string) => g.op("Squeeze", [t, g.ints([0])])[0];
    return cell === "lstm" ? [out, state(Yht), state(Yct)] : [out, state(Yht)];
  };
}
