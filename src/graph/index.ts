/** Pictures of models: the graph read from the checked IR, its layout, and SVG, DOT and JSON. */
export { modelGraph, programGraphs, type GraphEdge, type GraphNode, type ModelGraph } from "./model.ts";
export { layoutGraph, type PlacedGraph } from "./layout.ts";
export { graphDot, graphJson, graphSvg } from "./render.ts";
