/**
 * The `nnspec.graph` command: the picture `nnspec graph` draws, for the model under the cursor (or
 * every model of the file when the cursor is in none), so an editor can show it beside the text.
 */
import { graphDot, graphJson, graphSvg, programGraphs } from "../graph/index.ts";
import type { Analysis } from "./workspace.ts";

export const GRAPH_COMMAND = "nnspec.graph";

export interface GraphResult {
  /** The models drawn. */
  models: string[];
  format: "svg" | "dot" | "json";
  text: string;
}

export function graphAt(a: Analysis, offset: number | undefined, format: GraphResult["format"] = "svg"): GraphResult | null {
  const model = offset === undefined ? undefined : [...a.program.models.values()].find((m) => m.file === a.program.file && m.node.span.start <= offset && offset <= m.node.span.end);
  const graphs = programGraphs(a.program, a.checked, a.diagnostics, model?.name);
  if (graphs.length === 0) return null;
  const text = format === "dot" ? graphDot(graphs) : format === "json" ? graphJson(graphs) : graphSvg(graphs);
  return { models: graphs.map((g) => g.model), format, text };
}
