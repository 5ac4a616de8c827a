/**
 * The editor fuzzer: the real language server (`nnspec lsp --stdio`) gets course specs edited the
 * way editors send edits (ranged changes, several per message, messages faster than its debounce),
 * with requests at random places in between. Fails when the server logs an error, when a request
 * or the diagnostics take longer than 2 s, or when the final diagnostics differ from `nnspec
 * check` on the final text.
 *
 * A fixed seed and a bounded number of sessions run in `npm test` (so in CI);
 * `FUZZ_RUNS=200 FUZZ_SEED=7 npx vitest run test/fuzz/editor.test.ts` runs more; `npm run fuzz` runs 200.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DocumentFormattingRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  HoverRequest,
  InlayHintRequest,
  ReferencesRequest,
  SemanticTokensRequest,
  type Diagnostic,
  type Position,
  type TextDocumentContentChangeEvent,
} from "vscode-languageserver-protocol/node";
import { TextDocument } from "vscode-languageserver-textdocument";
import { FileHost } from "../../src/node/host.ts";
import { Client, ROOT, SPECS, uriOf, withServer } from "../lsp-client.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? (process.env.FUZZ_LONG ? 200 : 12));
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);
const BOUND_MS = 2000;

const specs = readdirSync(SPECS)
  .filter((f) => f.endsWith(".nnspec"))
  .map((name) => readFileSync(join(SPECS, name), "utf8"));

const PIECES = ["{", "}", "(", ")", "[", "]", ",", "\n", "\r", "\r\n", ";", "..", "->", "=", ":", '"', "#", "/*", "*/", "model ", "data ", "train ", "import ", "dense 3\n", "relu", "x", "0..3000000000", "1e309", "(".repeat(70), "\u001b[2J"];

/** Resolves with the promise's value, or rejects when it takes longer than BOUND_MS. */
async function bounded<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t0 = performance.now();
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${BOUND_MS} ms`)), BOUND_MS);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
    expect(performance.now() - t0, what).toBeLessThan(BOUND_MS);
  }
}

const key = (d: { code?: string | number; range: { start: Position; end: Position } }): string => `${d.code} ${d.range.start.line}:${d.range.start.character}-${d.range.end.line}:${d.range.end.character}`;

/** One request of each kind the editor sends as the user types, at a position. */
function request(c: Client, uri: string, kind: number, p: Position): Promise<unknown> {
  const textDocument = { uri };
  switch (kind % 10) {
    case 0:
      return c.conn.sendRequest(HoverRequest.type, { textDocument, position: p });
    case 1:
      return c.conn.sendRequest(CompletionRequest.type, { textDocument, position: p });
    case 2:
      return c.conn.sendRequest(DefinitionRequest.type, { textDocument, position: p });
    case 3:
      return c.conn.sendRequest(ReferencesRequest.type, { textDocument, position: p, context: { includeDeclaration: true } });
    case 4:
      return c.conn.sendRequest(InlayHintRequest.type, { textDocument, range: { start: { line: 0, character: 0 }, end: { line: p.line + 50, character: 0 } } });
    case 5:
      return c.conn.sendRequest(SemanticTokensRequest.type, { textDocument });
    case 6:
      return c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument, options: { tabSize: 2, insertSpaces: true } });
    case 7:
      return c.conn.sendRequest(CodeActionRequest.type, { textDocument, range: { start: p, end: p }, context: { diagnostics: [] } });
    case 8:
      return c.conn.sendRequest(DocumentSymbolRequest.type, { textDocument });
    default:
      return c.conn.sendRequest(FoldingRangeRequest.type, { textDocument });
  }
}

describe("the editor fuzzer", () => {
  let c: Client;
  withServer((x) => (c = x));

  it(`keeps ${RUNS} editing sessions within ${BOUND_MS} ms per answer, error-free and equal to a fresh check`, { timeout: 600_000 }, async () => {
    // an edit: where (a fraction of the text), how much to delete, what to insert
    const edit = fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat({ max: 40 }), fc.constantFrom(...PIECES));
    // a message: one to three edits, then maybe a request, maybe sent before the last one is checked
    const message = fc.record({ edits: fc.array(edit, { minLength: 1, maxLength: 3 }), request: fc.option(fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }))), wait: fc.boolean() });
    let session = 0;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: specs.length - 1 }), fc.array(message, { minLength: 1, maxLength: 12 }), async (i, messages) => {
        const path = join(SPECS, `fuzz-${session++}.nnspec`);
        const uri = uriOf(path);
        let doc = TextDocument.create(uri, "nnspec", 1, specs[i]);
        await bounded("the first diagnostics", c.open(path, doc.getText()));
        let published: Diagnostic[] | undefined;
        for (const [n, m] of messages.entries()) {
          const changes: TextDocumentContentChangeEvent[] = [];
          for (const [where, del, ins] of m.edits) {
            const text = doc.getText();
            const start = Math.floor(where * text.length);
            const range = { start: doc.positionAt(start), end: doc.positionAt(Math.min(text.length, start + del)) };
            changes.push({ range, text: ins });
            doc = TextDocument.update(doc, [{ range, text: ins }], doc.version);
          }
          const last = n === messages.length - 1;
          const got = c.edit(path, changes, doc.getText());
          if (m.request) {
            const [kind, where] = m.request;
            await bounded(`request ${kind % 10}`, request(c, uri, kind, doc.positionAt(Math.floor(where * doc.getText().length))));
          }
          // Unwaited messages are superseded by the next: the server publishes only the latest version.
          if (m.wait || last) published = await bounded("the diagnostics", got);
          else got.catch(() => undefined);
        }
        const text = doc.getText();
        const fresh = new FileHost().analyse(path, relative(ROOT, path), text).diagnostics;
        const want = fresh.map((d) => key({ code: d.code, range: { start: { line: d.span.line - 1, character: d.span.col - 1 }, end: { line: d.span.endLine - 1, character: d.span.endCol - 1 } } }));
        expect(published?.map(key), JSON.stringify(text)).toEqual(want);
        await c.close(path);
        expect(c.errors, c.errors.join("\n")).toEqual([]);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
