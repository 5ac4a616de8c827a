import type { Json } from "./json.ts";

/** A JSON Schema for the options of a layer, loss, optimizer or statement. Every property has a
 * `description` phrased to complete "units must be …", used in error messages and hover. */
export interface OptionsSchema {
  type: "object";
  properties: Record<string, PropertySchema>;
  required?: string[];
  additionalProperties: false;
}
export type PropertySchema = { description: string; default?: Json; [k: string]: unknown };

/** How a statement's bare terms map onto options. */
export interface ArgShape {
  /** Option names filled by positional values, in order. */
  positional: string[];
  /** When set, every positional value beyond the fixed ones is collected into this list option. */
  rest?: string;
  /** Bare names that switch a boolean option on (`stratified`). Any boolean option of the schema
   * is such a flag too: `nesterov` means `nesterov: true`. */
  flags?: string[];
  /** A bare name in this set fills this option instead of a position (`relu` → activation). */
  bareChoice?: { option: string; values: readonly string[] };
}
