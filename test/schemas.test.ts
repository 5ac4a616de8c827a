/** schemas/: the exported JSON Schemas are current (`npm run schemas`) and valid draft-07. */
import { Ajv } from "ajv";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { existingFiles, SCHEMAS_DIR, schemaFiles } from "../schemas/build.ts";
import { LAYERS } from "../src/kinds/layers/registry.ts";

const files = schemaFiles();

describe("JSON Schemas", () => {
  it("are up to date: run `npm run schemas`", () => {
    expect(existingFiles().sort(), "run `npm run schemas`").toEqual([...files.keys()].sort());
    for (const [rel, text] of files) expect(readFileSync(join(SCHEMAS_DIR, rel), "utf8"), `${rel} is stale: run \`npm run schemas\``).toBe(text);
  });

  it("cover every layer kind", () => {
    for (const k of LAYERS.keys()) expect(files.has(`layers/${k}.schema.json`), k).toBe(true);
  });

  it("each compiles with ajv (strict) and carries $schema, $id, title and description", () => {
    // Ajv's default strictness: unknown keywords and formats fail; a `required` name without a
    // matching `properties` entry (the range selector of statements) is valid draft-07 and allowed.
    const ajv = new Ajv({ allErrors: true });
    const ids = new Set<string>();
    for (const [rel, text] of files) {
      const schema = JSON.parse(text);
      expect(schema.$schema, rel).toBe("http://json-schema.org/draft-07/schema#");
      expect(typeof schema.title, rel).toBe("string");
      expect(schema.description, rel).toMatch(/\S/);
      expect(ids.has(schema.$id), `${rel}: duplicate $id`).toBe(false);
      ids.add(schema.$id);
      expect(() => ajv.compile(schema), rel).not.toThrow();
    }
  });

  it("validate options as the resolver lowers them", () => {
    const ajv = new Ajv();
    const dense = ajv.compile(JSON.parse(files.get("layers/dense.schema.json")!));
    expect(dense({ units: 16, activation: "relu", l2: 0.01 })).toBe(true);
    expect(dense({ units: 16, activation: { call: "leaky_relu", args: [0.2], options: {} } })).toBe(true);
    expect(dense({ units: 0 })).toBe(false);
    expect(dense({ unit: 3 })).toBe(false);
    const adam = ajv.compile(JSON.parse(files.get("optimizers/adam.schema.json")!));
    expect(adam({ lr: 0.001 })).toBe(true);
    expect(adam({ lr: -1 })).toBe(false);
  });
});
