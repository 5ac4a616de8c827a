/** `nnspec explain`: what a diagnostic code or lint name means. */
import { CATALOG, entryByCode, type CatalogEntry } from "../../diagnostics/catalog.ts";
import { closest } from "../../util/suggest.ts";
import { args, UsageError, type Command, type Io } from "../common.ts";

export const command: Command = {
  name: "explain",
  summary: "explain a diagnostic code",
  usage: "nnspec explain CODE",
  run: explain,
};

function explain(argv: string[], io: Io): number {
  const { positionals } = args(argv, {});
  if (positionals.length !== 1) throw new UsageError("give one diagnostic code or lint name, such as NN0101 or linear-collapse");
  const wanted = positionals[0];
  const entries: CatalogEntry[] = Object.values(CATALOG);
  const e = entryByCode(wanted.toUpperCase()) ?? entries.find((x) => x.name === wanted);
  if (!e) {
    const guess = closest(wanted, [...entries.map((x) => x.code), ...entries.flatMap((x) => (x.name ? [x.name] : []))]);
    io.stderr.write(`error: no diagnostic code or lint named \`${wanted}\`${guess ? `; did you mean ${guess}?` : ""}\n`);
    return 1;
  }
  const silence = e.severity === "warning" ? `\n\nSilence it on a line with \`# nnspec: allow ${e.name ?? e.code}\`, or in a whole file with \`# nnspec: allow-file ${e.name ?? e.code}\`.` : "";
  io.stdout.write(`${e.code}${e.name ? ` ${e.name}` : ""} (${e.severity}): ${e.message}\n\n${e.explain}${silence}\n`);
  return 0;
}
