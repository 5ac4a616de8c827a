/**
 * Text features (`text COLUMN chars|words`): a text cell becomes a fixed number of token ids, with a
 * vocabulary fitted on the training split only, as Keras's `TextVectorization` does it:
 *
 *   1. standardize: Unicode NFC; lower case (`case: lower`, the default); ASCII punctuation removed
 *      (`punctuation: strip`, the default; Keras's set `!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~`);
 *   2. split into characters (code points) or words (runs of non-whitespace);
 *   3. ids: 0 is padding, 1 a token outside the vocabulary, 2, 3, ... the vocabulary's tokens,
 *      most frequent in the training split first (ties in code-unit order), at most `vocab` ids in all;
 *   4. padding with 0 or truncation to `length` tokens (at the end by default, as TextVectorization;
 *      `pad: start` / `truncate: start` as Keras's `pad_sequences`). Without `length` it is the
 *      longest training text.
 *
 * Pure: the loader fits it, a saved model keeps the fitted form (`TextStats`, plain JSON) and
 * `predict` applies it to raw text.
 */

export const PAD_ID = 0;
export const OOV_ID = 1;
/** Ids below the vocabulary's first token. */
export const RESERVED_IDS = 2;

/** What the `text` statement asks for. */
export interface TextPlan {
  tokens: "chars" | "words";
  case: "lower" | "keep";
  punctuation: "strip" | "keep";
  pad: "end" | "start";
  truncate: "end" | "start";
  /** Tokens per example; undefined: the longest training text. */
  length?: number;
  /** At most this many ids (padding and out-of-vocabulary included); undefined: every training token. */
  vocab?: number;
}

/** The fitted form, saved with a model. */
export interface TextStats extends Omit<TextPlan, "length" | "vocab"> {
  length: number;
  /** Token of id i + 2. */
  vocabulary: string[];
}

const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/** The tokens of one text, after standardizing. */
export function tokenize(text: string, plan: Pick<TextPlan, "tokens" | "case" | "punctuation">): string[] {
  let s = text.normalize("NFC");
  if (plan.case === "lower") s = s.toLowerCase();
  if (plan.punctuation === "strip") s = s.replace(PUNCTUATION, "");
  if (plan.tokens === "chars") return Array.from(s.replace(/\s+/g, " ").trim());
  const words = s.split(/\s+/);
  return words[0] === "" || words[words.length - 1] === "" ? words.filter((w) => w !== "") : words;
}

/** Fits the vocabulary and length on the training texts. */
export function fitText(texts: Iterable<string>, plan: TextPlan): TextStats {
  const counts = new Map<string, number>();
  let longest = 0;
  for (const t of texts) {
    const toks = tokenize(t, plan);
    if (toks.length > longest) longest = toks.length;
    for (const k of toks) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k]) => k);
  const vocabulary = plan.vocab === undefined ? ranked : ranked.slice(0, Math.max(0, plan.vocab - RESERVED_IDS));
  return { tokens: plan.tokens, case: plan.case, punctuation: plan.punctuation, pad: plan.pad, truncate: plan.truncate, length: plan.length ?? Math.max(1, longest), vocabulary };
}

/** The number of ids a fitted text feature gives (its embedding needs at least this many rows). */
export const idCount = (s: TextStats): number => s.vocabulary.length + RESERVED_IDS;

/** A lookup from token to id, made once per transform. */
export function textLookup(s: TextStats): Map<string, number> {
  return new Map(s.vocabulary.map((t, i) => [t, i + RESERVED_IDS]));
}

/** Writes the `length` ids of `text` into `out` at `offset`. */
export function encodeText(text: string, s: TextStats, lookup: Map<string, number>, out: Float32Array, offset: number): void {
  let toks = tokenize(text, s);
  const L = s.length;
  if (toks.length > L) toks = s.truncate === "start" ? toks.slice(toks.length - L) : toks.slice(0, L);
  const at = s.pad === "start" ? offset + L - toks.length : offset;
  out.fill(PAD_ID, offset, offset + L);
  for (let i = 0; i < toks.length; i++) out[at + i] = lookup.get(toks[i]) ?? OOV_ID;
}
