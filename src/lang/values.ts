import type { Expr, Term } from "../syntax/ast.ts";

import { isCall, type CallValue, type Json, type SpanMap } from "../core/json.ts";

export { isCall, type CallValue, type Json, type SpanMap };

const pointerEscape = (s: string): string => s.replace(/~/g, "~0").replace(/\//g, "~1");

/**
 * Lowers an expression. Names become strings (`relu`, `same`) except `true`/`false`; arithmetic on
 * numbers is folded; arithmetic over names (dimension expressions) is kept as text.
 */
export function lowerExpr(e: Expr, path: string, spans: SpanMap): Json {
  spans.set(path, e.span);
  switch (e.kind) {
    case "number":
      return e.value;
    case "string":
      return e.value;
    case "name":
      return e.name === "true" ? true : e.name === "false" ? false : e.name;
    case "paren":
      return lowerExpr(e.inner, path, spans);
    case "negate": {
      const v = lowerExpr(e.operand, path, spans);
      spans.set(path, e.span);
      return typeof v === "number" ? -v : `-${exprText(e.operand)}`;
    }
    case "list":
      return e.items.map((it, i) => lowerExpr(it, `${path}/${i}`, spans));
    case "range": {
      const from = lowerExpr(e.from, `${path}/from`, spans);
      const to = lowerExpr(e.to, `${path}/to`, spans);
      return { range: [from, to] };
    }
    case "binary": {
      const l = lowerExpr(e.left, `${path}/l`, spans);
      const r = lowerExpr(e.right, `${path}/r`, spans);
      spans.set(path, e.span);
      if (typeof l === "number" && typeof r === "number") {
        switch (e.op) {
          case "+":
            return l + r;
          case "-":
            return l - r;
          case "*":
            return l * r;
          case "/":
            return l / r;
        }
      }
      return exprText(e);
    }
    case "call": {
      const args: Json[] = [];
      const options: { [k: string]: Json } = {};
      for (const t of e.args) {
        if (t.key && t.key.kind === "name") options[t.key.name] = lowerExpr(t.value, `${path}/options/${pointerEscape(t.key.name)}`, spans);
        else args.push(lowerExpr(t.value, `${path}/args/${args.length}`, spans));
      }
      return { call: e.callee.name, args, options } satisfies CallValue as unknown as Json;
    }
  }
}

/** Whether a string is written bare in a spec (a name). */
export const isName = (s: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);

/** A bound value as nnspec writes it: names bare, other strings quoted, calls, ranges and lists. */
export function valueText(v: Json): string {
  if (typeof v === "string") return isName(v) ? v : JSON.stringify(v);
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    if ("call" in v) {
      const c = v as unknown as CallValue;
      return `${c.call}(${[...c.args.map(valueText), ...Object.entries(c.options).map(([k, x]) => `${k}: ${valueText(x)}`)].join(", ")})`;
    }
    if ("range" in v && Array.isArray(v.range)) return `${valueText(v.range[0])}..${valueText(v.range[1])}`;
  }
  if (Array.isArray(v)) return `[${v.map(valueText).join(", ")}]`;
  return JSON.stringify(v);
}

/** Source-like text of an expression, for messages and symbolic dimensions. */
export function exprText(e: Expr): string {
  switch (e.kind) {
    case "number":
      return e.raw;
    case "string":
      return e.raw;
    case "name":
      return e.name;
    case "paren":
      return `(${exprText(e.inner)})`;
    case "negate":
      return `-${exprText(e.operand)}`;
    case "list":
      return `[${e.items.map(exprText).join(", ")}]`;
    case "range":
      return `${exprText(e.from)}..${exprText(e.to)}`;
    case "binary":
      return `${exprText(e.left)} ${e.op} ${exprText(e.right)}`;
    case "call":
      return `${e.callee.name}(${e.args.map(termText).join(", ")})`;
  }
}

export function termText(t: Term): string {
  return t.key ? `${exprText(t.key)}: ${exprText(t.value)}` : exprText(t.value);
}

export { pointerEscape };
