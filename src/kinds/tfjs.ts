/**
 * What a loss's or optimizer's TensorFlow.js mapping may ask of the code generator: a literal for
 * a value, and the name under which a helper of src/codegen/tfjs/runtime.ts is imported.
 */
export interface TfjsCodeContext {
  literal(v: unknown): string;
  /** Imports the helper and returns its name in the generated module. */
  helper(name: "CenteredRMSProp" | "AdamW"): string;
  /** The number of classes of the output (label smoothing spreads over them). */
  classes?: number;
}
