/** Highlighting for the editor: nnspec's tokens (src/syntax/tokens.ts) and layer kinds as CodeMirror's stream tokens. */
import { StreamLanguage } from "@codemirror/language";
import { LAYERS } from "../../src/kinds/layers/registry.ts";
import { KEYWORDS } from "../../src/syntax/tokens.ts";

const keywords = new Set<string>(KEYWORDS);
const kinds = new Set(LAYERS.keys());

export const nnspecLanguage = StreamLanguage.define<{ inComment: boolean }>({
  name: "nnspec",
  startState: () => ({ inComment: false }),
  token(stream, state) {
    if (state.inComment) {
      if (stream.skipTo("*/")) {
        stream.pos += 2;
        state.inComment = false;
      } else stream.skipToEnd();
      return "comment";
    }
    if (stream.eatSpace()) return null;
    if (stream.match("#") || stream.match("//")) {
      stream.skipToEnd();
      return "comment";
    }
    if (stream.match("/*")) {
      state.inComment = true;
      return "comment";
    }
    if (stream.match(/^"(?:[^"\\\n]|\\.)*"?/)) return "string";
    if (stream.match(/^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/)) return "number";
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (word) return keywords.has(word[0]) ? "keyword" : kinds.has(word[0]) ? "typeName" : "variableName";
    stream.next();
    return "punctuation";
  },
});
