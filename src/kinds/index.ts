/** Lookups across the kind families, for callers that build a configuration without a spec. */
import type { Json } from "../core/json.ts";
import { withDefaults, type OptionsSchema } from "../core/options.ts";
import { LOSSES } from "./losses/index.ts";
import { OPTIMIZERS, SCHEDULES } from "./optimizers/index.ts";

const FAMILIES: Record<"loss" | "optimizer" | "schedule", ReadonlyMap<string, { schema: OptionsSchema }>> = { loss: LOSSES, optimizer: OPTIMIZERS, schedule: SCHEDULES };

/** A loss, optimizer or schedule with the given options and its schema's defaults for the rest: what the binder gives backends. */
export function named(family: keyof typeof FAMILIES, name: string, written: Record<string, Json> = {}): { name: string; opts: Record<string, Json> } {
  const kind = FAMILIES[family].get(name);
  if (!kind) throw new Error(`no ${family} \`${name}\``);
  return { name, opts: withDefaults(kind.schema, written) };
}
