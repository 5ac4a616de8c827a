/** Highlighting for the editor: nnspec's keywords and layer kinds (from the build), numbers, strings and comments. */
import { StreamLanguage } from "@codemirror/language";
import { KEYWORDS, KINDS } from "nnspec:kinds";

const keywords = new Set<string>(KEYWORDS);
const kinds = new Set(KINDS);

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
