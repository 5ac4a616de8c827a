import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { CATALOG } from "../diagnostics/catalog.ts";
import type { DiagnosticSink } from "../diagnostics/diagnostic.ts";
import { pointAt, type Span } from "../diagnostics/span.ts";
import type { Term } from "../syntax/ast.ts";
import { closest } from "../util/suggest.ts";
import { withDefaults, type ArgShape, type OptionsSchema, type PropertySchema } from "../core/options.ts";
import { exprText, lowerExpr, pointerEscape, type Json, type SpanMap } from "./values.ts";

export type { ArgShape, OptionsSchema, PropertySchema };

export interface Bound {
  /** False when any term was rejected: later analyses must not trust the options. */
  ok: boolean;
  options: Record<string, Json>;
  /** `options` with the schema's defaults for every option not given: what backends read. */
  full: Record<string, Json>;
  spans: SpanMap;
  /** Span of the key of each named option, for fixes that rename it. */
  keySpans: Map<string, Span>;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new WeakMap<object, ValidateFunction>();
function validator(schema: OptionsSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/**
 * Binds terms to named options and validates them against the schema. Every problem is reported at
 * the span of the term that caused it; the options that passed are still returned.
 */
export function bindTerms(
  terms: Term[],
  shape: ArgShape,
  schema: OptionsSchema,
  owner: string,
  ownerSpan: Span,
  sink: DiagnosticSink,
  /** Heads of the other statements of the block, to spot two statements on one line. */
  siblings?: ReadonlySet<string>,
): Bound {
  const before = sink.items.length;
  const options: Record<string, Json> = {};
  const spans: SpanMap = new Map();
  const keySpans = new Map<string, Span>();
  let pos = 0;
  const restVals: Json[] = [];
  let extraReported = false;
  for (const t of terms) {
    if (t.key) {
      if (t.key.kind !== "name") {
        sink.report("invalidArgument", t.key.span, { message: `expected an option name before \`:\`, found \`${exprText(t.key)}\`` });
        continue;
      }
      const k = t.key.name;
      if (k in options) {
        sink.report("duplicateStatement", t.key.span, { name: k });
        continue;
      }
      keySpans.set(k, t.key.span);
      options[k] = lowerExpr(t.value, `/${pointerEscape(k)}`, spans);
      continue;
    }
    const v = t.value;
    if (v.kind === "name" && (shape.flags?.includes(v.name) || schema.properties[v.name]?.type === "boolean") && !(v.name in options)) {
      options[v.name] = true;
      spans.set(`/${v.name}`, v.span);
      continue;
    }
    if (v.kind === "name" && shape.bareChoice?.values.includes(v.name) && !(shape.bareChoice.option in options)) {
      options[shape.bareChoice.option] = v.name;
      spans.set(`/${shape.bareChoice.option}`, v.span);
      continue;
    }
    if (pos < shape.positional.length) {
      const name = shape.positional[pos++];
      options[name] = lowerExpr(v, `/${pointerEscape(name)}`, spans);
      continue;
    }
    if (shape.rest) {
      restVals.push(lowerExpr(v, `/${shape.rest}/${restVals.length}`, spans));
      continue;
    }
    if (extraReported) continue;
    extraReported = true;
    const takes = shape.positional.length === 0 ? "no positional values" : `${shape.positional.length} positional value${shape.positional.length > 1 ? "s" : ""} (${shape.positional.join(", ")})`;
    if (v.kind === "name" && siblings?.has(v.name)) {
      const at = v.span;
      const before = terms[terms.indexOf(t) - 1];
      if (before && before.span.endLine < at.line) {
        // Already on its own line: the line before ends with a comma, which continues the statement.
        sink.report("trailingInput", at, { found: `\`${v.name}\`` }, {
          help: `line ${before.span.endLine} ends with a comma, which continues its statement onto line ${at.line}: remove that comma`,
          labels: [{ span: before.span, message: "the comma after this continues the statement" }],
        });
        continue;
      }
      // `epochs 100 batch 16`: two statements on one line.
      sink.report("trailingInput", at, { found: `\`${v.name}\`` }, {
        help: `\`${v.name}\` starts a new statement: put it on its own line`,
        fixes: [{ title: `move \`${v.name}\` to its own line`, edits: [{ span: pointAt(at), newText: "\n" + " ".repeat(Math.max(0, ownerSpan.col - 1)) }] }],
      });
      continue;
    }
    const guess = v.kind === "name" ? closest(v.name, [...(shape.flags ?? []), ...(shape.bareChoice?.values ?? []), ...Object.keys(schema.properties)]) : undefined;
    sink.report("invalidArgument", v.span, { message: `unexpected \`${exprText(v)}\`: ${owner} takes ${takes}` }, {
      label: "unexpected value",
      help: guess ? `did you mean \`${guess}\`?` : `give options by name, as in \`name: value\`; ${owner} accepts: ${Object.keys(schema.properties).join(", ") || "no options"}`,
      fixes: guess ? [{ title: `replace with \`${guess}\``, edits: [{ span: v.span, newText: guess }] }] : [],
    });
  }
  if (shape.rest && restVals.length) options[shape.rest] = restVals;
  // A number too large for a double (`1e309`, or arithmetic that overflows) is Infinity: an error,
  // and the option is then left out (without a second "is missing" error).
  const overflowed = new Set<string>();
  // every span is looked up only when some number overflowed: the usual case costs one scan
  if (hasInfinity(options)) {
    for (const [ptr, span] of spans) {
      const v = valueAt(options, ptr);
      if (typeof v !== "number" || Number.isFinite(v)) continue;
      const top = ptr.split("/")[1];
      if (!(top in options)) continue;
      sink.report("invalidArgument", span, { message: `this number is too large: ${owner} needs finite numbers (at most about 1.8e308)` }, { label: "overflows to infinity" });
      delete options[top];
      overflowed.add(top);
    }
  }
  const validate = validator(schema);
  let recovered = false;
  if (!validate(options)) {
    // A misspelt option name with one clear suggestion (`kernl: 4`) is reported once, then read as
    // the option it was meant to be, so the missing-`kernel` error and every later shape check
    // behave as if the fix were applied.
    const renames = misspelt(validate.errors ?? [], schema, options, keySpans);
    for (const [from, to] of renames) {
      const span = keySpans.get(from)!;
      sink.report("unknownOption", span, { name: from, owner }, { help: `did you mean \`${to}\`?`, fixes: [{ title: `rename to \`${to}\``, edits: [{ span, newText: to }] }] });
      options[to] = options[from];
      delete options[from];
      for (const [k, v] of [...spans]) if (k === `/${pointerEscape(from)}` || k.startsWith(`/${pointerEscape(from)}/`)) spans.set(`/${pointerEscape(to)}${k.slice(pointerEscape(from).length + 1)}`, v);
      keySpans.set(to, span);
    }
    if (renames.size && validate(options)) recovered = true;
    else if (!validate(options)) {
      const reported = new Set<string>(overflowed);
      for (const err of validate.errors ?? []) reportSchemaError(err, schema, options, spans, keySpans, owner, ownerSpan, sink, reported);
      // Drop what failed so later analyses see only valid options.
      for (const k of reported) delete options[k];
    }
  }
  // (a loop, not slice and filter: this runs for every layer and statement, and nearly always finds nothing)
  let ok = true;
  for (let i = before; i < sink.items.length; i++) {
    const d = sink.items[i];
    if (d.severity === "error" && !(recovered && d.code === CATALOG.unknownOption.code)) ok = false;
  }
  return { ok, options, full: withDefaults(schema, options), spans, keySpans };
}

/** Whether a number inside the value is not finite. */
function hasInfinity(v: Json): boolean {
  if (typeof v === "number") return !Number.isFinite(v);
  if (Array.isArray(v)) return v.some(hasInfinity);
  if (v !== null && typeof v === "object") {
    for (const k in v) if (hasInfinity(v[k])) return true;
  }
  return false;
}

/** The value at a JSON pointer (`/units`, `/kernel/1`) of the lowered options. */
function valueAt(root: Json, ptr: string): Json | undefined {
  let v: Json | undefined = root;
  for (const raw of ptr.split("/").slice(1)) {
    const k = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (v === null || typeof v !== "object") return undefined;
    v = Array.isArray(v) ? v[Number(k)] : (v as Record<string, Json>)[k];
  }
  return v;
}

/** Unknown option names that are one plausible typo away from an option not given. */
function misspelt(errors: ErrorObject[], schema: OptionsSchema, options: Record<string, Json>, keySpans: Map<string, Span>): Map<string, string> {
  const out = new Map<string, string>();
  for (const err of errors) {
    if (err.keyword !== "additionalProperties") continue;
    const name = (err.params as { additionalProperty: string }).additionalProperty;
    const guess = closest(name, Object.keys(schema.properties));
    if (guess && keySpans.has(name) && !(guess in options) && ![...out.values()].includes(guess)) out.set(name, guess);
  }
  return out;
}

function reportSchemaError(
  err: ErrorObject,
  schema: OptionsSchema,
  options: Record<string, Json>,
  spans: SpanMap,
  keySpans: Map<string, Span>,
  owner: string,
  ownerSpan: Span,
  sink: DiagnosticSink,
  reported: Set<string>,
): void {
  if (err.keyword === "additionalProperties") {
    const name = (err.params as { additionalProperty: string }).additionalProperty;
    if (reported.has(name)) return;
    reported.add(name);
    const span = keySpans.get(name) ?? spans.get(`/${pointerEscape(name)}`) ?? ownerSpan;
    const guess = closest(name, Object.keys(schema.properties));
    sink.report("unknownOption", span, { name, owner }, {
      help: guess ? `did you mean \`${guess}\`?` : `${owner} accepts: ${Object.keys(schema.properties).join(", ")}`,
      fixes: guess && keySpans.has(name) ? [{ title: `rename to \`${guess}\``, edits: [{ span, newText: guess }] }] : [],
    });
    return;
  }
  if (err.keyword === "required") {
    const name = (err.params as { missingProperty: string }).missingProperty;
    if (reported.has(name)) return;
    reported.add(name);
    const prop = schema.properties[name];
    sink.report("invalidArgument", ownerSpan, { message: `${owner} needs \`${name}\` (${prop?.description ?? "a value"})` }, { label: `\`${name}\` is missing` });
    return;
  }
  const top = err.instancePath.split("/")[1];
  if (top === undefined || reported.has(top)) return;
  reported.add(top);
  const name = top.replace(/~1/g, "/").replace(/~0/g, "~");
  const prop = schema.properties[name];
  const span = spans.get(err.instancePath) ?? spans.get(`/${top}`) ?? ownerSpan;
  const got = show(options[name]);
  // A bad item of a list option (`metrics acuracy`): look at the item and the items' enum.
  const item = err.instancePath.split("/").length === 3 ? (options[name] as Json[] | undefined)?.[Number(err.instancePath.split("/")[2])] : undefined;
  const itemEnum = prop && typeof prop.items === "object" && prop.items !== null ? findEnum(prop.items as PropertySchema) : undefined;
  if (itemEnum && typeof item === "string") {
    const guess = closest(item, itemEnum);
    reported.delete(top);
    sink.report("unknownChoice", span, { what: `value in ${owner}`, name: item }, {
      help: guess ? `did you mean \`${guess}\`? (${name}: ${itemEnum.join(", ")})` : `${name}: ${itemEnum.join(", ")}`,
      fixes: guess ? [{ title: `replace with \`${guess}\``, edits: [{ span, newText: guess }] }] : [],
    });
    return;
  }
  const enumValues = findEnum(prop);
  if (enumValues && typeof options[name] === "string") {
    const guess = closest(options[name] as string, enumValues);
    sink.report("unknownChoice", span, { what: `value for \`${name}\``, name: options[name] as string }, {
      help: guess ? `did you mean \`${guess}\`? (${name} is one of ${enumValues.join(", ")})` : `${name} is one of ${enumValues.join(", ")}`,
      fixes: guess ? [{ title: `replace with \`${guess}\``, edits: [{ span, newText: guess }] }] : [],
    });
    return;
  }
  sink.report("invalidArgument", span, { message: `${name} must be ${prop?.description ?? "valid"}, got ${got}` }, { label: `invalid ${name}` });
}

function findEnum(prop: PropertySchema | undefined): string[] | undefined {
  if (!prop) return undefined;
  if (Array.isArray(prop.enum)) return prop.enum as string[];
  for (const k of ["anyOf", "oneOf"]) {
    const alts = prop[k];
    if (Array.isArray(alts)) for (const a of alts) if (a && Array.isArray((a as { enum?: unknown }).enum)) return (a as { enum: string[] }).enum;
  }
  return undefined;
}

function show(v: Json | undefined): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return `\`${v}\``;
  if (typeof v === "object" && v !== null && !Array.isArray(v) && "call" in v) return `\`${String(v.call)}(…)\``;
  if (typeof v === "object" && v !== null && !Array.isArray(v) && "range" in v) return "a range";
  return JSON.stringify(v);
}
