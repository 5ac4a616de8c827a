/**
 * Writes the JSON Schema (draft-07) of every layer kind, loss, optimizer, learning-rate schedule and
 * data/train statement to schemas/<group>/<name>.schema.json, from the same objects the resolver
 * validates options with. Run `npm run schemas` after changing a schema or a doc; a test fails while
 * the files are stale.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ArgShape, OptionsSchema } from "../src/lang/bind.ts";
import { DATA_STATEMENTS, TRAIN_STATEMENTS } from "../src/lang/statements.ts";
import { LAYERS } from "../src/kinds/layers/registry.ts";
import { LOSSES } from "../src/kinds/losses/index.ts";
import { OPTIMIZERS, SCHEDULES } from "../src/kinds/optimizers/index.ts";

export const SCHEMAS_DIR = dirname(fileURLToPath(import.meta.url));
/** The folders this script owns: every *.schema.json in them is generated. */
export const GROUPS = ["layers", "losses", "optimizers", "schedules", "statements/data", "statements/train"] as const;
const ID_BASE = "urn:nnspec:schemas:";

function args(a: ArgShape): string | undefined {
  const parts: string[] = [];
  if (a.positional.length) parts.push(`positional values fill ${a.positional.map((p) => `\`${p}\``).join(", ")} in order`);
  if (a.rest) parts.push(`further values are collected into \`${a.rest}\``);
  if (a.bareChoice) parts.push(`a bare ${a.bareChoice.values.join("/")} sets \`${a.bareChoice.option}\``);
  if (a.flags?.length) parts.push(`the bare names ${a.flags.map((f) => `\`${f}\``).join(", ")} set those options to true`);
  return parts.length ? `Written as terms: ${parts.join("; ")}; any option may be given as \`name: value\`.` : undefined;
}

function file(group: string, name: string, title: string, doc: string, schema: OptionsSchema, shape?: ArgShape): [string, string] {
  const note = shape ? args(shape) : undefined;
  const json = {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: `${ID_BASE}${group}/${name}`,
    title,
    description: doc,
    ...(note ? { $comment: note } : {}),
    ...schema,
  };
  return [`${group}/${name}.schema.json`, JSON.stringify(json, null, 2) + "\n"];
}

/** Every schema file: path relative to schemas/ → contents. */
export function schemaFiles(): Map<string, string> {
  const out: [string, string][] = [];
  for (const k of LAYERS.values()) out.push(file("layers", k.name, `\`${k.name}\` layer options`, k.doc, k.schema, k.args));
  for (const l of LOSSES.values()) out.push(file("losses", l.name, `\`${l.name}\` loss options`, l.doc, l.schema));
  for (const o of OPTIMIZERS.values()) out.push(file("optimizers", o.name, `\`${o.name}\` optimizer options`, o.doc, o.schema));
  for (const s of SCHEDULES.values()) out.push(file("schedules", s.name, `\`${s.name}\` learning-rate schedule options`, s.doc, s.schema));
  for (const [group, statements] of [["data", DATA_STATEMENTS], ["train", TRAIN_STATEMENTS]] as const)
    for (const s of statements.values()) {
      const doc = s.catalog ? `${s.doc} The options are those of the named ${s.catalog}: see schemas/${s.catalog === "loss" ? "losses" : `${s.catalog}s`}/.` : s.doc;
      out.push(file(`statements/${group}`, s.name, `\`${s.name}\` statement of a ${group} block`, doc, s.schema, s.args));
    }
  return new Map(out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The generated files now on disk, relative to schemas/. */
export function existingFiles(): string[] {
  return GROUPS.flatMap((g) => {
    try {
      return readdirSync(join(SCHEMAS_DIR, g))
        .filter((f) => f.endsWith(".schema.json"))
        .map((f) => `${g}/${f}`);
    } catch {
      return [];
    }
  });
}

function write(): void {
  const files = schemaFiles();
  for (const stale of existingFiles()) if (!files.has(stale)) rmSync(join(SCHEMAS_DIR, stale));
  for (const [rel, text] of files) {
    mkdirSync(dirname(join(SCHEMAS_DIR, rel)), { recursive: true });
    writeFileSync(join(SCHEMAS_DIR, rel), text);
  }
  console.log(`wrote ${files.size} schemas under ${SCHEMAS_DIR}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) write();
