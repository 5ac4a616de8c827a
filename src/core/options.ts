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

const defaultsOf = new WeakMap<OptionsSchema, { plain: Record<string, Json>; lists: [string, Json][] }>();

/** The options as written, with every absent option that has a schema default filled in. */
export function withDefaults(schema: OptionsSchema, written: Readonly<Record<string, Json>>): Record<string, Json> {
  let d = defaultsOf.get(schema);
  if (!d) {
    d = { plain: {}, lists: [] };
    for (const k in schema.properties) {
      const v = schema.properties[k].default;
      if (v === undefined) continue;
      if (typeof v === "object" && v !== null) d.lists.push([k, v]);
      else d.plain[k] = v;
    }
    defaultsOf.set(schema, d);
  }
  const full: Record<string, Json> = { ...d.plain };
  // A list or object default is copied: callers may edit theirs.
  for (const [k, v] of d.lists) if (!(k in written)) full[k] = copyJson(v);
  return Object.assign(full, written);
}

/** A deep copy of a JSON value (a list default per layer: JSON.stringify and parse cost more). */
function copyJson(v: Json): Json {
  if (Array.isArray(v)) return v.map(copyJson);
  if (v !== null && typeof v === "object") {
    const out: Record<string, Json> = {};
    for (const k in v) out[k] = copyJson(v[k]);
    return out;
  }
  return v;
}

/**
 * Readers for backends, over options the binder has already validated and filled with defaults.
 * A missing value here is a bug in nnspec (a schema without the default), never the user's input.
 */
export function numberOption(o: Readonly<Record<string, Json>>, key: string): number {
  const v = o[key];
  if (typeof v !== "number") throw new Error(`internal: option \`${key}\` is ${JSON.stringify(v)}, not a number (its schema needs a default)`);
  return v;
}
export function booleanOption(o: Readonly<Record<string, Json>>, key: string): boolean {
  const v = o[key];
  if (typeof v !== "boolean") throw new Error(`internal: option \`${key}\` is ${JSON.stringify(v)}, not a boolean (its schema needs a default)`);
  return v;
}
