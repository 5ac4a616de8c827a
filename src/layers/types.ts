import type { ArgShape, OptionsSchema } from "../lang/bind.ts";

/**
 * Everything nnspec knows about one layer kind. Later stages add their parts here (shape rule,
 * parameter count, kernel, tfjs mapping), so a layer kind is defined in exactly one folder.
 */
export interface LayerKind {
  name: string;
  /** One paragraph for hover and `nnspec layers`. */
  doc: string;
  args: ArgShape;
  schema: OptionsSchema;
  /** `many` for layers that combine several named tensors (add, concat). */
  inputs: "one" | "many";
}
