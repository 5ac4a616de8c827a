/**
 * Training in the playground: a Web Worker that runs nnspec's interpreter on the spec as it stands
 * in the editor, reading its data from the in-memory copy of specs/. It posts each epoch's record
 * as it ends (the page draws the learning curves), then the report on the test split (or the
 * validation split) and the trained model in TensorFlow.js's Layers format. The page stops a run by
 * terminating the worker.
 */
import { loadData } from "../../src/data/index.ts";
import { FileHost } from "../../src/node/host.ts";
import { RuntimeModel } from "../../src/runtime/model.ts";
import { reportText } from "../../src/runtime/report.ts";
import { checkTrainable, evaluate, train, trainConfig, type EpochRecord } from "../../src/runtime/train.ts";
import { encodeWeights, modelJson } from "../../src/saved/save.ts";
import { writeFiles, type Files } from "./files.ts";
import { HELPER_LOOP, spawnHelpers } from "../../src/core/simd/index.ts";

export interface TrainRequest extends Files {
  /** The spec's path in the in-memory file system, and its text as edited. */
  path: string;
  text: string;
  /** The cursor: the train block it is in, or the one training the model it is in, else the first. */
  offset: number;
}

export type TrainMessage =
  | { type: "start"; title: string; epochs: number; threads: number }
  | { type: "epoch"; record: EpochRecord }
  | { type: "done"; stop: string; report: string; modelJson: string; weights: Uint8Array; name: string }
  | { type: "error"; message: string };

const scope = self as unknown as Worker;

/**
 * Helper Web Workers for the large matrix products (src/core/simd), where the page is cross-origin
 * isolated (`nnspec playground` serves it so) and memory can be shared; one thread elsewhere.
 * Started once: they end with this worker.
 */
const threads = spawnHelpers(Math.min(navigator.hardwareConcurrency || 1, 4), (start) => {
  const url = URL.createObjectURL(new Blob([`${HELPER_LOOP}\nonmessage = (e) => helperLoop(e.data.memory, e.data.bytes, e.data.index, e.data.session);\n`], { type: "text/javascript" }));
  new Worker(url).postMessage(start);
});
const post = (m: TrainMessage, transfer: Transferable[] = []) => scope.postMessage(m, transfer);

async function run(req: TrainRequest): Promise<void> {
  writeFiles({ ...req.files, [req.path]: req.text });
  const f = new FileHost().analyse(req.path, req.path.slice(req.path.lastIndexOf("/") + 1));
  const errors = f.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) return post({ type: "error", message: `the spec has ${errors.length} error${errors.length === 1 ? "" : "s"} (line ${errors[0].span.line}: ${errors[0].message}): fix them first` });
  const trains = f.checked.trains;
  if (!trains.length) return post({ type: "error", message: "the spec has no train block: add one (`train MODEL on DATA { ... }`)" });
  const inside = (s: { start: number; end: number }) => s.start <= req.offset && req.offset <= s.end;
  const t = trains.find((x) => inside(x.node.span)) ?? trains.find((x) => x.model && inside(x.model.node.span)) ?? trains[0];
  const model = t.model ? f.checked.models.get(t.model.name) : undefined;
  if (!model || !t.data || !t.config) return post({ type: "error", message: "this train block does not name a model and data that check" });
  const { data, diagnostics } = await loadData(t.data, req.path);
  if (!data) return post({ type: "error", message: diagnostics.map((d) => d.message).join("; ") || "the data could not be loaded" });
  const cfg = trainConfig(t);
  const { model: m, errors: lowering } = RuntimeModel.lower(model, { seed: cfg.seed });
  if (!m) return post({ type: "error", message: lowering.join("; ") });
  const refused = checkTrainable(m, cfg, data);
  if (refused.length) return post({ type: "error", message: refused.join("; ") });
  post({ type: "start", title: `${model.spec.name} on ${t.data.name}`, epochs: cfg.epochs, threads });
  const result = train(m, { train: data.train, val: data.val }, cfg, { onEpoch: (record) => post({ type: "epoch", record }) });
  const split = data.test.n > 0 ? data.test : data.val;
  let report = "no test or validation split to report on";
  if (split && split.n > 0) {
    const r = evaluate(m, split, cfg.loss);
    report = reportText(r.loss, r.report, data.classNames, split === data.test ? "test" : "val");
  }
  const weights = encodeWeights(m);
  post({ type: "done", stop: result.stop.message, report, modelJson: modelJson(m), weights, name: model.spec.name }, [weights.buffer]);
}

scope.addEventListener("message", (e: MessageEvent<TrainRequest>) => {
  run(e.data).catch((err: unknown) => post({ type: "error", message: err instanceof Error ? err.message : String(err) }));
});
