/** A train block's configuration, read once from its bound options (defaults already filled in). */
import { numberOption, withDefaults } from "../core/options.ts";
import type { Json } from "../core/json.ts";
import type { TrainSpec } from "../lang/program.ts";
import { statementValues, TRAIN_STATEMENTS } from "../lang/statements.ts";
import type { TrainConfig } from "./ir.ts";

const statement = (t: TrainSpec, name: string): Record<string, Json> => statementValues(t.statements, TRAIN_STATEMENTS, name);

/** The seed of a model no train block trains (its statement's default). */
export function defaultSeed(): number {
  return numberOption(withDefaults(TRAIN_STATEMENTS.get("seed")!.schema, {}), "value");
}

export function trainConfigOf(t: TrainSpec): TrainConfig | undefined {
  if (!t.loss || !t.optimizer) return undefined;
  const es = t.statements.get("early_stopping")?.options.full;
  const metrics = t.statements.get("metrics")?.options.full.names;
  return {
    loss: { name: t.loss.kind, opts: t.loss.full },
    optimizer: { name: t.optimizer.kind, opts: t.optimizer.full },
    schedule: t.schedule ? { name: t.schedule.kind, opts: t.schedule.full } : undefined,
    epochs: numberOption(statement(t, "epochs"), "count"),
    batch: numberOption(statement(t, "batch"), "size"),
    seed: numberOption(statement(t, "seed"), "value"),
    metrics: Array.isArray(metrics) ? metrics.filter((m): m is string => typeof m === "string") : [],
    earlyStopping: es ? { monitor: String(es.monitor), patience: numberOption(es, "patience"), minDelta: numberOption(es, "min_delta"), restoreBest: es.restore_best === true } : undefined,
  };
}
