/**
 * Model graphs as a standalone SVG (no scripts, no external fonts or styles: it opens in any browser
 * and embeds in a README), as Graphviz DOT, and as JSON with the layout's coordinates.
 */
import { escapeXml } from "../util/xml.ts";
import { CHAR_WIDTH, count, FONT_SIZE, layoutGraph, LINE_HEIGHT, nodeLines, type PlacedGraph, type PlacedNode, type Point } from "./layout.ts";
import type { GraphNode, ModelGraph } from "./model.ts";

const FONT = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace";
const GAP = 40;
const TITLE = 28;

/** Fill and stroke of a layer by what it does; inputs and outputs green, findings red or amber. */
const COLORS = {
  weighted: ["#e7f0fb", "#3d6fa5"],
  activation: ["#f4f4f4", "#7a7a7a"],
  norm: ["#f2edfa", "#7357a6"],
  dropout: ["#f2edfa", "#7357a6"],
  pool: ["#eaf6ec", "#3f8a52"],
  reshape: ["#eaf6ec", "#3f8a52"],
  merge: ["#fff4dc", "#b07d12"],
  io: ["#e3f4e8", "#2e7d4a"],
  error: ["#fdeaea", "#c62828"],
  warning: ["#fff3e0", "#e08a00"],
} as const;
const TEXT = { name: "#111", plain: "#222", dim: "#666", error: "#b71c1c", warning: "#9a5b00" } as const;

const f = (n: number): string => String(Math.round(n * 10) / 10);

/** The line above a model's drawing. */
const titleOf = (g: ModelGraph): string => `model ${g.model} (line ${g.line})${g.params !== undefined ? ` · ${count(g.params)} params` : ""}`;

function colorsOf(n: GraphNode): readonly [string, string] {
  if (n.problems.some((p) => p.severity === "error")) return COLORS.error;
  if (n.problems.length) return COLORS.warning;
  if (n.kind === "input" || n.kind === "output") return COLORS.io;
  return COLORS[n.role ?? "weighted"];
}

/** A smooth path through dagre's points: straight ends, quadratic turns at the inner points. */
function pathOf(pts: Point[]): string {
  if (pts.length === 0) return "";
  let d = `M${f(pts[0].x)},${f(pts[0].y)}`;
  if (pts.length === 2) return `${d} L${f(pts[1].x)},${f(pts[1].y)}`;
  for (let i = 1; i < pts.length - 1; i++) {
    const m = { x: (pts[i].x + pts[i + 1].x) / 2, y: (pts[i].y + pts[i + 1].y) / 2 };
    d += ` Q${f(pts[i].x)},${f(pts[i].y)} ${i === pts.length - 2 ? `${f(pts[i + 1].x)},${f(pts[i + 1].y)}` : `${f(m.x)},${f(m.y)}`}`;
  }
  return d;
}

function nodeSvg(n: PlacedNode): string {
  const [fill, stroke] = colorsOf(n);
  const x = n.x - n.width / 2;
  const y = n.y - n.height / 2;
  const r = n.kind === "layer" ? 4 : n.height / 2;
  const dash = n.checked ? "" : ` stroke-dasharray="4 3"`;
  const width = n.problems.length ? 2 : 1.2;
  const title = `${n.name} (line ${n.line})${n.problems.map((p) => `\n${p.severity} ${p.code}: ${p.message}`).join("")}`;
  const top = n.y - (n.lines.length * LINE_HEIGHT) / 2 + LINE_HEIGHT / 2;
  const text = n.lines
    .map((l, i) => `<text x="${f(n.x)}" y="${f(top + i * LINE_HEIGHT)}" fill="${TEXT[l.style]}"${l.style === "name" ? ` font-weight="bold"` : ""}>${escapeXml(l.text)}</text>`)
    .join("");
  return `<g><title>${escapeXml(title)}</title><rect x="${f(x)}" y="${f(y)}" width="${f(n.width)}" height="${f(n.height)}" rx="${f(r)}" fill="${fill}" stroke="${stroke}" stroke-width="${width}"${dash}/>${text}</g>`;
}

function modelSvg(g: PlacedGraph, dx: number): string {
  const out: string[] = [];
  const head = titleOf(g);
  out.push(`<text x="${f(dx + 12)}" y="${f(TITLE / 2 + 4)}" text-anchor="start" font-weight="bold" font-size="${FONT_SIZE + 1}">${escapeXml(head)}</text>`);
  out.push(`<g transform="translate(${f(dx)},${TITLE})">`);
  for (const c of g.clusters) {
    out.push(`<rect x="${f(c.x - c.width / 2)}" y="${f(c.y - c.height / 2)}" width="${f(c.width)}" height="${f(c.height)}" rx="6" fill="#8a8a8a" fill-opacity="0.07" stroke="#8a8a8a" stroke-dasharray="5 3"/>`);
  }
  for (const c of g.clusters) out.push(`<text x="${f(c.title.x)}" y="${f(c.title.y)}" fill="#555" font-style="italic">${escapeXml(c.label)}</text>`);
  for (const e of g.edges) out.push(`<path d="${pathOf(e.points)}" fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"/>`);
  // labels over every line, so no edge runs through a shape
  for (const e of g.edges) {
    if (!e.shape || !e.label) continue;
    const w = e.shape.length * CHAR_WIDTH + 6;
    out.push(`<rect x="${f(e.label.x - w / 2)}" y="${f(e.label.y - LINE_HEIGHT / 2)}" width="${f(w)}" height="${LINE_HEIGHT}" rx="3" fill="#fff"/>`);
    out.push(`<text x="${f(e.label.x)}" y="${f(e.label.y)}" fill="#444" font-size="${FONT_SIZE - 1}">${escapeXml(e.shape)}</text>`);
  }
  for (const n of g.nodes) out.push(nodeSvg(n));
  out.push(`</g>`);
  return out.join("\n");
}

/** Every model side by side in one SVG, each under its name. */
export function graphSvg(graphs: readonly ModelGraph[]): string {
  const placed = graphs.map(layoutGraph);
  let width = 0;
  const parts: string[] = [];
  for (const g of placed) {
    parts.push(modelSvg(g, width));
    width += Math.max(g.width, titleOf(g).length * (CHAR_WIDTH + 0.6) + 24) + GAP;
  }
  width = Math.max(1, width - GAP);
  const height = Math.max(1, ...placed.map((g) => g.height + TITLE));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f(width)}" height="${f(height)}" viewBox="0 0 ${f(width)} ${f(height)}" font-family="${FONT}" font-size="${FONT_SIZE}" text-anchor="middle" dominant-baseline="central">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    `</svg>`,
    "",
  ].join("\n");
}

const dotString = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

/** Graphviz DOT: one digraph per model, block uses as clusters, findings in the node's label. */
export function graphDot(graphs: readonly ModelGraph[]): string {
  return graphs
    .map((g) => {
      const out = [`digraph ${dotString(g.model)} {`, `  rankdir=TB;`, `  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=11];`, `  edge [fontname="monospace", fontsize=10];`];
      const node = (n: ModelGraph["nodes"][number], indent: string): string => {
        const [fill, stroke] = colorsOf(n);
        const label = nodeLines(n)
          .map((l) => l.text)
          .join("\n");
        const shape = n.kind === "layer" ? "" : `, shape=${n.kind === "join" ? "ellipse" : "oval"}`;
        return `${indent}${dotString(n.id)} [label=${dotString(label)}, fillcolor="${fill}", color="${stroke}"${shape}${n.checked ? "" : `, style="rounded,filled,dashed"`}];`;
      };
      const emit = (parent: string | undefined, indent: string): void => {
        for (const c of g.clusters.filter((c) => c.parent === parent)) {
          out.push(`${indent}subgraph ${dotString(`cluster_${c.id}`)} {`, `${indent}  label=${dotString(c.label)};`, `${indent}  style=dashed;`);
          emit(c.id, indent + "  ");
          out.push(`${indent}}`);
        }
        for (const n of g.nodes.filter((n) => n.cluster === parent)) out.push(node(n, indent));
      };
      emit(undefined, "  ");
      for (const e of g.edges) out.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${e.shape ? ` [label=${dotString(e.shape)}]` : ""};`);
      out.push("}");
      return out.join("\n");
    })
    .join("\n\n")
    .concat("\n");
}

/** The graphs with their layout, for tools that draw them their own way. */
export function graphJson(graphs: readonly ModelGraph[]): string {
  const round = (p: Point): Point => ({ x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 });
  const models = graphs.map(layoutGraph).map((g) => ({
    ...g,
    nodes: g.nodes.map(({ lines, ...n }) => ({ ...n, lines: lines.map((l) => l.text), ...round(n) })),
    edges: g.edges.map((e) => ({ ...e, points: e.points.map(round), ...(e.label ? { label: round(e.label) } : {}) })),
    clusters: g.clusters.map((c) => ({ ...c, ...round(c), title: round(c.title) })),
  }));
  return JSON.stringify({ models }, null, 1) + "\n";
}
