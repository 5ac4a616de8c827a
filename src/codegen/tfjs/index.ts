/**
 * TensorFlow.js code generation: one TypeScript module per spec file (`emit.ts` writes it, prettier
 * formats it in-process). `build.ts` is the Node side: analysing specs, choosing paths, writing files.
 */
import { format } from "prettier";
import type { CheckedProgram } from "../../check/ir.ts";
import { emitModule } from "./emit.ts";

export { CodegenError, type EmitInput } from "./emit.ts";

/** The options prettier formats generated code with (fixed, so no project configuration changes the output). */
export const PRETTIER_OPTIONS = { parser: "typescript", printWidth: 120 } as const;

export interface GenerateInput {
  /** The spec as the user named it. */
  specPath: string;
  checked: CheckedProgram;
  /** Source text by the file names in the program (the spec and the files it imports models from). */
  source(file: string): string | undefined;
  /** Import specifier of src/data/runtime.ts, relative to the generated module. */
  runtimeImport: string;
  /** Import specifier of src/codegen/tfjs/runtime.ts (the TensorFlow.js helpers), relative to the generated module. */
  helpersImport: string;
  /** The spec's folder, relative to the generated module's folder. */
  specDir: string;
  /** How to run the generated module, for its header. */
  runCommand: string;
}

/** The formatted TypeScript module of one checked spec. Throws a CodegenError for what TensorFlow.js cannot express. */
export async function generateTfjs(input: GenerateInput): Promise<string> {
  return format(emitModule(input), PRETTIER_OPTIONS);
}
