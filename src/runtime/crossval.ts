/**
 * K-fold cross-validation: one fresh model per fold (the same seeded initial weights each time),
 * trained on the fold's training rows and scored on its held-out rows, then the mean and the
 * sample standard deviation of every score across the folds.
 */
import type { RuntimeModel } from "./model.ts";
import { evaluate, train, type EpochRecord, type Split, type TrainConfig, type TrainHooks } from "./train.ts";
import { meanAndSd } from "../core/stats.ts";

export interface FoldResult {
  fold: number;
  /** Held-out rows. */
  n: number;
  epochs: number;
  bestEpoch?: number;
  stop: string;
  /** Held-out loss and metrics of the fold's final weights. */
  values: Record<string, number>;
}

export interface CrossValidation {
  folds: FoldResult[];
  mean: Record<string, number>;
  /** Sample standard deviation (n − 1); 0 for a single fold. */
  sd: Record<string, number>;
}

export interface CrossValHooks {
  onFoldStart?: (fold: number, folds: number) => void;
  onEpoch?: (fold: number, r: EpochRecord) => void;
  onFold?: (r: FoldResult) => void;
}

export function crossValidate(fresh: () => RuntimeModel, folds: readonly { train: Split; val: Split }[], cfg: TrainConfig, hooks: CrossValHooks = {}): CrossValidation {
  const results: FoldResult[] = [];
  folds.forEach((f, i) => {
    hooks.onFoldStart?.(i + 1, folds.length);
    const model = fresh();
    const trainHooks: TrainHooks = { onEpoch: (r) => hooks.onEpoch?.(i + 1, r) };
    const r = train(model, { train: f.train, val: f.val }, cfg, trainHooks);
    const ev = evaluate(model, f.val, cfg.loss);
    const values: Record<string, number> = { loss: ev.loss };
    for (const [k, v] of Object.entries(ev.report.values)) if (cfg.metrics.includes(k)) values[k] = v;
    const result: FoldResult = { fold: i + 1, n: f.val.n, epochs: r.history.length, bestEpoch: r.bestEpoch, stop: r.stop.message, values };
    results.push(result);
    hooks.onFold?.(result);
  });
  return { folds: results, ...meanAndSd(results.map((r) => r.values)) };
}
