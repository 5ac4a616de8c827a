/** `nnspec layers`: the layer kinds and their options with defaults. */
import { LAYERS } from "../../kinds/layers/registry.ts";
import { closest } from "../../util/suggest.ts";
import { args, type Command, type Io } from "../common.ts";

export const command: Command = {
  name: "layers",
  summary: "list the layer kinds and their options",
  usage: "nnspec layers [KIND]",
  run: layers,
};

function layers(argv: string[], io: Io): number {
  const { positionals } = args(argv, {});
  const list = positionals.length ? positionals : [...LAYERS.keys()];
  let bad = 0;
  for (const name of list) {
    const k = LAYERS.get(name);
    if (!k) {
      const guess = closest(name, LAYERS.keys());
      io.stderr.write(`error: unknown layer kind \`${name}\`${guess ? `; did you mean \`${guess}\`?` : ""}\n`);
      bad++;
      continue;
    }
    const opts = Object.entries(k.schema.properties)
      .map(([o, s]) => `    ${o}: ${s.description}${s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : ""}`)
      .join("\n");
    const pos = k.args.positional.length ? ` ${k.args.positional.map((p) => `<${p}>`).join(" ")}` : k.args.rest ? ` <${k.args.rest}>...` : "";
    io.stdout.write(`${k.name}${pos}\n  ${k.doc}\n${opts}\n\n`);
  }
  return bad ? 1 : 0;
}
