import { Dim, shapeText } from "../../../core/dims.ts";
import type { PropertySchema } from "../../../core/options.ts";
import { bool, initializer, positiveInt, regularizer, tfjsInit, tfjsRegularizer, tfjsTrainable, trainable } from "../common.ts";
import { pyLiteral, type TorchConvert } from "../../torch.ts";
import { gatesOf, mergeOf, RECURRENT_ACTIVATIONS, recurrentKernel, type Cell } from "./kernel.ts";
import { recurrentOnnx } from "./onnx.ts";
import type { LayerKind } from "../types.ts";
import type { Json } from "../../../core/json.ts";
import { defined, kerasClass, kerasInit, kerasRegularizer, snake } from "../keras.ts";

const rate = (what: string): PropertySchema => ({ description: `a fraction in [0, 1) ${what}`, type: "number", minimum: 0, exclusiveMaximum: 1, default: 0 });
const activation = (dflt: string): PropertySchema => ({ description: `an activation (${RECURRENT_ACTIVATIONS.join(", ")})`, enum: [...RECURRENT_ACTIVATIONS], default: dflt });

/** The tf.layers factory of each cell. */
const factoryOf = (cell: Cell): string => (cell === "simple_rnn" ? "simpleRNN" : cell);

/** TensorFlow.js's names of the activations. */
const TFJS_ACTIVATION: Record<string, string> = { tanh: "tanh", sigmoid: "sigmoid", hard_sigmoid: "hardSigmoid", relu: "relu", linear: "linear" };

const DOCS: Record<Cell, string> = {
  simple_rnn:
    "A fully connected recurrent layer: h_t = activation(x_t · W + h_{t−1} · U + b) over a [steps, features] sequence. `simple_rnn 32` gives the last step's [32]; `return_sequences: true` gives every step's [steps, 32].",
  lstm: "Long short-term memory over a [steps, features] sequence, with Keras's gates (input, forget, cell, output) and weights. `lstm 64` gives the last step's [64]; `return_sequences: true` gives [steps, 64], what a second recurrent layer reads.",
  gru: "Gated recurrent unit over a [steps, features] sequence, with Keras's gates (update, reset, candidate). `reset_after: false` (the default) applies the reset gate before the recurrent product, the form TensorFlow.js builds and saves; `reset_after: true` is Keras 2's default and PyTorch's form (TensorFlow.js cannot build it).",
};

/** What every recurrent kind's documentation ends with: its states in and out. */
const STATES = (states: string): string =>
  ` \`return_state: true\` also returns the final ${states === "h" ? "state" : "states"} (\`out, ${states} = ... return_state: true\`), and \`initial_state: [${states}]\` starts another layer from them instead of zeros, as an encoder hands its states to a decoder.`;

const twice = (opts: Record<string, unknown>): boolean => mergeOf(opts) !== "off";
/** The `state=` argument of the helper's recurrent modules: the initial states, when given. */
const stateArg = (states: string[]): string => (states.length ? `, state=(${states.join(", ")}${states.length === 1 ? "," : ""})` : "");
/** The states a cell carries from step to step: h, and an LSTM's c. */
const statesOf = (cell: Cell): number => (cell === "lstm" ? 2 : 1);

function kind(cell: Cell): LayerKind {
  const gates = gatesOf(cell);
  return {
    name: cell,
    doc: DOCS[cell] + STATES(cell === "lstm" ? "h, c" : "h"),
    inputs: "one",
    role: "weighted",
    recurrent: true,
    mask: (opts) => (opts.return_sequences === true ? "uses" : "ends"),
    args: { positional: ["units"] },
    schema: {
      type: "object",
      properties: {
        units: positiveInt("units"),
        activation: activation("tanh"),
        ...(cell === "simple_rnn" ? {} : { recurrent_activation: activation("sigmoid") }),
        use_bias: bool(true),
        kernel_init: initializer("glorot_uniform"),
        recurrent_init: initializer("orthogonal"),
        bias_init: initializer("zeros"),
        ...(cell === "lstm" ? { unit_forget_bias: bool(true) } : {}),
        ...(cell === "gru" ? { reset_after: bool(false) } : {}),
        return_sequences: bool(false),
        return_state: bool(false),
        initial_state: {
          description: `the tensors to start from instead of zeros, each [units]: ${cell === "lstm" ? "[h, c]" : "[h]"} (another recurrent layer's states, taken with \`return_state: true\`)`,
          type: "array",
          minItems: 1,
          maxItems: 2,
          items: { type: "string" },
        },
        go_backwards: bool(false),
        bidirectional: {
          description: "`off`, or how to merge a second layer that reads the sequence backwards: `concat`, `sum`, `mul` or `ave` (Keras's Bidirectional)",
          enum: ["off", "concat", "sum", "mul", "ave"],
          default: "off",
        },
        dropout: rate("of the inputs dropped during training, the same at every step"),
        recurrent_dropout: rate("of the state's units dropped from the recurrent products during training, the same at every step"),
        l1: regularizer,
        l2: regularizer,
        ...trainable,
      },
      required: ["units"],
      additionalProperties: false,
    },
    shape(ctx) {
      const s = ctx.inputs[0];
      if (s.length !== 2)
        return ctx.error(
          "rankMismatch",
          { layer: cell, expected: "a sequence [steps, features]", got: shapeText(s) },
          {
            help:
              s.length === 1
                ? "a recurrent layer reads one vector per step: after another recurrent layer, give that one `return_sequences: true`; otherwise reshape the features into [steps, features]"
                : "reshape the input into [steps, features]",
          },
        );
      const bi = twice(ctx.opts);
      const own = Dim.of(ctx.opts.units as number);
      const given = ctx.opts.initial_state as string[] | undefined;
      if (given) {
        const names = cell === "lstm" ? "[h, c]" : "[h]";
        if (bi) return ctx.error("stateMismatch", { message: `\`${cell}\` cannot start from given states: a bidirectional layer takes none yet` }, { at: "/initial_state", label: "not with `bidirectional`" });
        if (given.length !== statesOf(cell))
          return ctx.error("stateMismatch", { message: `\`${cell}\` starts from ${given.length} state${given.length === 1 ? "" : "s"}, but ${cell === "lstm" ? "an" : "a"} ${cell} has ${statesOf(cell)}: ${names}` }, { at: "/initial_state", label: `give ${names}` });
        for (let k = 0; k < given.length; k++) {
          const g = ctx.inputs[1 + k];
          if (!g) return undefined; // an unknown name, already reported
          if (g.length !== 1 || !g[0].equals(own))
            return ctx.error(
              "stateMismatch",
              { message: `\`${cell}\` starts from \`${given[k]}\` ${shapeText(g)} as its ${k === 0 ? "h" : "c"}, but its state is ${shapeText([own])}` },
              { at: `/initial_state/${k}`, label: `not [*, ${own}]`, help: `the state of a recurrent layer with ${own} units is [*, ${own}]: take it from one with \`units: ${own}\`` },
            );
        }
      }
      if (ctx.opts.return_state === true && bi) return ctx.error("stateMismatch", { message: `\`${cell}\` cannot return its states: a bidirectional layer returns none yet` }, { at: "/return_state", label: "not with `bidirectional`" });
      const units = Dim.of((ctx.opts.units as number) * (ctx.opts.bidirectional === "concat" ? 2 : 1));
      return ctx.opts.return_sequences === true ? [s[0], units] : [units];
    },
    tensorOption: "initial_state",
    outputs: (opts) => (opts.return_state === true ? 1 + statesOf(cell) : 1),
    moreShapes: (_ins, _out, opts) => (opts.return_state === true ? Array.from({ length: statesOf(cell) }, () => [Dim.of(opts.units as number)]) : []),
    params([s], _o, opts) {
      const f = s[1]?.value;
      if (f === undefined) return undefined;
      const u = opts.units as number;
      const biases = opts.use_bias === false ? 0 : (cell === "gru" && opts.reset_after === true ? 2 : 1) * gates * u;
      const layers = twice(opts) ? 2 : 1;
      return { trainable: layers * (gates * (f * u + u * u) + biases), nonTrainable: 0 };
    },
    // the gates of every step, kept for the backward pass
    workspace: ([s], _o, opts) => s[0].mul(gates * (opts.units as number)),
    flops([s], _o, opts) {
      const u = opts.units as number;
      // per step: the input and recurrent products (2 per multiply-add), in each direction
      return s[0].mul(s[1].mul(2 * gates * u).add(2 * gates * u * u)).mul(twice(opts) ? 2 : 1);
    },
    onnx: recurrentOnnx(cell),
    keras: {
      classes: [kerasClass(factoryOf(cell)), "Bidirectional"],
      options(r) {
        const inner = r.config.layer === undefined ? { className: kerasClass(factoryOf(cell)), reader: r } : r.wrapped("layer");
        if (inner?.className !== kerasClass(factoryOf(cell))) return undefined;
        const c = inner.reader;
        const act = (key: string): Json | undefined => {
          const v = c.config[key];
          if (v === undefined || v === null) return undefined;
          const name = typeof v === "string" ? snake(v) : undefined;
          if (name && (RECURRENT_ACTIVATIONS as readonly string[]).includes(name)) return name;
          c.refuse(key, `a recurrent layer's activation ${JSON.stringify(v)} has no nnspec form (nnspec has ${RECURRENT_ACTIVATIONS.join(", ")})`);
          return undefined;
        };
        const flag = (key: string): boolean | undefined => (typeof c.config[key] === "boolean" ? (c.config[key] as boolean) : undefined);
        const rate = (key: string): number | undefined => (typeof c.config[key] === "number" ? (c.config[key] as number) : undefined);
        return defined({
          units: c.config.units,
          activation: act("activation"),
          ...(cell === "simple_rnn" ? {} : { recurrent_activation: act("recurrent_activation") }),
          use_bias: flag("use_bias"),
          kernel_init: kerasInit(c, "kernel_initializer"),
          recurrent_init: kerasInit(c, "recurrent_initializer"),
          bias_init: kerasInit(c, "bias_initializer"),
          // tfjs writes null for its default, which initializes the forget bias to 0 like any other
          ...(cell === "lstm" ? { unit_forget_bias: c.config.unit_forget_bias === undefined ? undefined : c.config.unit_forget_bias === true } : {}),
          ...(cell === "gru" ? { reset_after: flag("reset_after") } : {}),
          return_sequences: flag("return_sequences"),
          return_state: flag("return_state"),
          go_backwards: flag("go_backwards"),
          dropout: rate("dropout"),
          recurrent_dropout: rate("recurrent_dropout"),
          ...kerasRegularizer(c, "kernel_regularizer"),
          bidirectional: r.config.layer === undefined ? undefined : (r.config.merge_mode ?? "concat"),
        });
      },
    },
    tfjs(opts) {
      const reg = tfjsRegularizer(opts);
      const config: Record<string, unknown> = {
        units: opts.units,
        activation: TFJS_ACTIVATION[opts.activation as string],
        ...(cell === "simple_rnn" ? {} : { recurrentActivation: TFJS_ACTIVATION[opts.recurrent_activation as string] }),
        useBias: opts.use_bias !== false,
        kernelInitializer: tfjsInit(opts.kernel_init, "glorot_uniform"),
        recurrentInitializer: tfjsInit(opts.recurrent_init, "orthogonal"),
        biasInitializer: tfjsInit(opts.bias_init, "zeros"),
        ...(cell === "lstm" ? { unitForgetBias: opts.unit_forget_bias !== false } : {}),
        ...(cell === "gru" ? { resetAfter: opts.reset_after === true } : {}),
        returnSequences: opts.return_sequences === true,
        ...(opts.return_state === true ? { returnState: true } : {}),
        goBackwards: opts.go_backwards === true,
        ...(opts.dropout ? { dropout: opts.dropout } : {}),
        ...(opts.recurrent_dropout ? { recurrentDropout: opts.recurrent_dropout } : {}),
        ...(reg ? { kernelRegularizer: reg } : {}),
        ...tfjsTrainable(opts),
      };
      const factory = factoryOf(cell);
      const unsupported =
        cell === "gru" && opts.reset_after === true ? "a gru with `reset_after: true` cannot be built in TensorFlow.js 4.22, whose GRU has the reset gate before the recurrent product only (`reset_after: false`)" : undefined;
      const layer = { factory, config, ...(unsupported ? { unsupported } : {}) };
      if (!twice(opts)) return layer;
      // Keras's Bidirectional around the layer (named after its kind: tfjs names the weights
      // <layer>/forward_<kind>/kernel, as the interpreter declares them); a frozen layer is frozen
      // inside too, since tfjs's wrapper copies the inner layer's config into its two layers
      return {
        factory: "bidirectional",
        config: { mergeMode: opts.bidirectional, ...tfjsTrainable(opts) },
        wraps: { factory, config: { ...config, name: cell } },
        ...(unsupported ? { unsupported } : {}),
      };
    },
    torch(opts, [s], _out, layer, masked) {
      const bi = twice(opts);
      // PyTorch's own nn.LSTM or nn.GRU where it computes the same thing (padded steps it cannot skip)
      const fused =
        !masked &&
        (cell === "lstm" || (cell === "gru" && opts.reset_after === true)) &&
        opts.activation === "tanh" &&
        opts.recurrent_activation === "sigmoid" &&
        !opts.dropout &&
        !opts.recurrent_dropout &&
        (!bi || opts.bidirectional === "concat");
      if (fused) {
        const gru = cell === "gru";
        const w = (attr: string, convert: TorchConvert) => ({ attr, convert });
        const one = (x: string) => ({
          kernel: w(`rnn.weight_ih_l0${x}`, gru ? "gru_gates" : "transpose"),
          recurrent_kernel: w(`rnn.weight_hh_l0${x}`, gru ? "gru_gates" : "transpose"),
          bias: gru ? w(`rnn.bias_ih_l0${x} rnn.bias_hh_l0${x}`, "gru_bias") : w(`rnn.bias_ih_l0${x}`, "same"),
        });
        const named = (prefix: string, ws: ReturnType<typeof one>) => Object.fromEntries(Object.entries(ws).map(([k, v]) => [`${prefix}${k}`, v]));
        const returnState = opts.return_state === true ? `, return_state=True` : "";
        return {
          module: `nt.FusedRNN(${pyLiteral(cell)}, ${s[1]}, ${opts.units}, use_bias=${pyLiteral(opts.use_bias)}, return_sequences=${pyLiteral(opts.return_sequences)}, go_backwards=${pyLiteral(opts.go_backwards)}, both=${pyLiteral(bi)}${returnState})`,
          layout: "last",
          call: ([x, ...states], self) => `${self}(${x}${stateArg(states)})`,
          weights: bi ? { ...named(`forward_${cell}/`, one("")), ...named(`backward_${cell}/`, one("_reverse")) } : one(""),
        };
      }
      const args = [
        pyLiteral(cell),
        s[1],
        opts.units,
        ...Object.entries({
          layer,
          ...(bi ? { merge: opts.bidirectional } : {}),
          activation: opts.activation,
          recurrent_activation: opts.recurrent_activation ?? "linear",
          use_bias: opts.use_bias,
          reset_after: opts.reset_after ?? false,
          return_sequences: opts.return_sequences,
          return_state: opts.return_state,
          go_backwards: opts.go_backwards,
          dropout: opts.dropout,
          recurrent_dropout: opts.recurrent_dropout,
        }).map(([k, v]) => `${k}=${pyLiteral(v)}`),
      ];
      const names = ["kernel", "recurrent_kernel", "bias"];
      const same = (attr: string) => ({ attr, convert: "same" as const });
      return {
        module: `nt.${bi ? "Bidirectional" : "Recurrent"}(${args.join(", ")})`,
        layout: "last",
        call: ([x, ...states], self, _layout, mask) => `${self}(${x}${mask ? `, ${mask}` : ""}${stateArg(states)})`,
        weights: Object.fromEntries(bi ? names.flatMap((n) => [[`forward_${cell}/${n}`, same(`fw.${n}`)], [`backward_${cell}/${n}`, same(`bw.${n}`)]]) : names.map((n) => [n, same(n)])),
      };
    },
    kernel: recurrentKernel(cell),
  };
}

export const simple_rnn = kind("simple_rnn");
export const lstm = kind("lstm");
export const gru = kind("gru");
