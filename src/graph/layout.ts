/**
 * Where each node, edge and cluster of a model graph goes: a layered drawing, top to bottom, by
 * dagre (Sugiyama-style layering with crossing reduction and compound clusters). Sizes come from
 * the text each node shows, in a monospace font of known advance.
 */
import dagre from "@dagrejs/dagre";
import type { GraphNode, ModelGraph } from "./model.ts";

export const FONT_SIZE = 12;
/** The advance of one character of a 12px monospace font (0.6 em). */
export const CHAR_WIDTH = 7.2;
export const LINE_HEIGHT = 16;
const PAD_X = 10;
const PAD_Y = 6;
/** A finding's message is wrapped to this many characters a line. */
const WRAP = 44;

export interface Point {
  x: number;
  y: number;
}

/** One line of a node's text; `strong` for its name, `problem` for a finding. */
export interface TextLine {
  text: string;
  style: "name" | "plain" | "dim" | "error" | "warning";
}

export interface PlacedNode extends GraphNode {
  lines: TextLine[];
  /** The centre. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  shape?: string;
  points: Point[];
  /** The centre of the shape label. */
  label?: Point;
}

export interface PlacedCluster {
  id: string;
  label: string;
  parent?: string;
  line: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** The centre of its label, placed by the layout like a node inside the cluster. */
  title: Point;
}

export interface PlacedGraph extends Omit<ModelGraph, "nodes" | "edges" | "clusters"> {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  clusters: PlacedCluster[];
  width: number;
  height: number;
}

/** Splits a message into lines of at most `width` characters, at spaces where it can. */
export function wrap(text: string, width = WRAP): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (!word) continue;
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = "";
    }
    for (let w = word; w; w = w.slice(width)) {
      if (line) line += " ";
      line += w.slice(0, width);
      if (w.length > width) {
        out.push(line);
        line = "";
      }
    }
  }
  if (line) out.push(line);
  return out;
}

export const count = (n: number): string => n.toLocaleString("en-US");

/** The text a node shows, line by line. */
export function nodeLines(n: GraphNode): TextLine[] {
  const lines: TextLine[] = [{ text: n.name, style: "name" }];
  if (n.kind === "input") lines.push({ text: "input", style: "dim" });
  else if (n.kind === "output") lines.push({ text: "output", style: "dim" });
  else if (n.text) lines.push({ text: n.text, style: "plain" });
  if (n.params) lines.push({ text: `${count(n.params)} params`, style: "dim" });
  for (const p of n.problems) wrap(`${p.code}: ${p.message}`).forEach((text) => lines.push({ text, style: p.severity }));
  return lines;
}

const textWidth = (s: string): number => s.length * CHAR_WIDTH;

/** Lays a model graph out; pure and deterministic (the same graph gives the same drawing). */
export function layoutGraph(g: ModelGraph): PlacedGraph {
  const d = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  d.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 34, edgesep: 12, marginx: 12, marginy: 12 });
  d.setDefaultEdgeLabel(() => ({}));
  const lines = new Map(g.nodes.map((n) => [n.id, nodeLines(n)]));
  for (const n of g.nodes) {
    const ls = lines.get(n.id)!;
    const round = n.kind === "input" || n.kind === "output" || n.kind === "join";
    const width = Math.max(...ls.map((l) => textWidth(l.text))) + 2 * PAD_X + (round ? 16 : 0);
    d.setNode(n.id, { width: Math.ceil(width), height: ls.length * LINE_HEIGHT + 2 * PAD_Y });
  }
  // dagre keeps no room for a cluster's label: a node inside it holds the label (tied to no layer,
  // it lands where it disturbs nothing, usually beside the cluster's last layer)
  for (const c of g.clusters) {
    d.setNode(`cluster:${c.id}`, {});
    d.setNode(`title:${c.id}`, { width: Math.ceil(textWidth(c.label)), height: LINE_HEIGHT });
    d.setParent(`title:${c.id}`, `cluster:${c.id}`);
  }
  for (const c of g.clusters) if (c.parent) d.setParent(`cluster:${c.id}`, `cluster:${c.parent}`);
  for (const n of g.nodes) if (n.cluster) d.setParent(n.id, `cluster:${n.cluster}`);
  g.edges.forEach((e, i) => {
    d.setEdge(e.from, e.to, e.shape ? { width: Math.ceil(textWidth(e.shape)) + 6, height: LINE_HEIGHT, labelpos: "c" } : {}, `e${i}`);
  });
  dagre.layout(d);

  const nodes: PlacedNode[] = g.nodes.map((n) => {
    const p = d.node(n.id);
    return { ...n, lines: lines.get(n.id)!, x: p.x!, y: p.y!, width: p.width, height: p.height };
  });
  const edges: PlacedEdge[] = g.edges.map((e, i) => {
    const p = d.edge(e.from, e.to, `e${i}`);
    return { ...e, points: (p.points ?? []).map((q: Point) => ({ x: q.x, y: q.y })), ...(e.shape && p.x !== undefined ? { label: { x: p.x, y: p.y! } } : {}) };
  });
  const clusters: PlacedCluster[] = g.clusters.map((c) => {
    const p = d.node(`cluster:${c.id}`);
    const t = d.node(`title:${c.id}`);
    return { ...c, x: p.x!, y: p.y!, width: p.width, height: p.height, title: { x: t.x!, y: t.y! } };
  });
  const size = d.graph();
  return { ...g, nodes, edges, clusters, width: Math.ceil(size.width ?? 0), height: Math.ceil(size.height ?? 0) };
}
