/**
 * `npm run playground:build`: the static playground in playground/dist/ (index.html, the page's
 * bundle, the language server's and the trainer's worker bundles, and files.json: the course specs
 * with their data, which the page fetches and hands to the workers).
 * Shared code that reads files or uses Node's modules gets browser forms of them (src/shims/);
 * vscode-languageserver's Node entry becomes its browser entry. Any web server can host the folder.
 */
import { build, type Plugin } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LAYERS } from "../src/kinds/layers/registry.ts";
import { KEYWORDS } from "../src/syntax/tokens.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
const SPECS = join(ROOT, "specs");
const OUT = process.argv.includes("--out") ? resolve(process.argv[process.argv.indexOf("--out") + 1]) : join(HERE, "dist");

/** Every file under a folder, by path relative to it. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)).map((p) => `${e.name}/${p}`) : [e.name]));
}

/** A spec the page can run: every relative path it names is a file of specs/ (no Debian or user data). */
function browserSized(spec: string): boolean {
  const text = readFileSync(join(SPECS, spec), "utf8");
  const paths = [...text.matchAll(/"([^"\n]+)"/g)].map((m) => m[1]).filter((p) => /\.(csv|gz|txt|nnspec|idx\w*)$|ubyte/.test(p));
  return paths.every((p) => !p.startsWith("/") && existsSync(join(SPECS, p)) && statSync(join(SPECS, p)).isFile());
}

/** The files the workers read, as JSON the page fetches (data, not code: outside the bundles' budget). */
function filesJson(): string {
  const files: Record<string, string | { base64: string }> = {};
  for (const rel of walk(SPECS)) {
    if (!/\.(nnspec|csv|gz|txt)$/.test(rel)) continue;
    const bytes = readFileSync(join(SPECS, rel));
    files[`/specs/${rel}`] = rel.endsWith(".gz") ? { base64: bytes.toString("base64") } : bytes.toString("utf8");
  }
  const examples = readdirSync(SPECS)
    .filter((f) => f.endsWith(".nnspec") && browserSized(f))
    .map((f) => f.slice(0, -".nnspec".length))
    .sort();
  return JSON.stringify({ files, examples });
}

/** The keywords and layer kinds, for the page's highlighting (the page bundles neither the lexer nor the kind registry). */
function kindsModule(): string {
  return `export const KINDS = ${JSON.stringify([...LAYERS.keys()].sort())};\nexport const KEYWORDS = ${JSON.stringify(KEYWORDS)};\n`;
}

const files: Plugin = {
  name: "nnspec-files",
  setup(b) {
    b.onResolve({ filter: /^nnspec:kinds$/ }, () => ({ path: "kinds", namespace: "nnspec" }));
    b.onLoad({ filter: /.*/, namespace: "nnspec" }, () => ({ contents: kindsModule(), loader: "js" }));
  },
};

const shim = (name: string) => join(HERE, "src", "shims", `${name}.ts`);
const alias: Record<string, string> = {
  "node:fs": shim("fs"),
  fs: shim("fs"),
  "node:fs/promises": shim("fs-promises"),
  "node:path": "path-browserify",
  path: "path-browserify",
  "node:url": shim("url"),
  "node:zlib": shim("zlib"),
  "node:util": shim("util"),
  "vscode-languageserver/node": "vscode-languageserver/browser",
  // what memfs asks of the bundler: the usual browser forms of Node's buffer, events and streams
  "node:buffer": "buffer",
  "node:events": "events",
  "node:stream": "stream-browserify",
};

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const result = await build({
  entryPoints: { main: join(HERE, "src", "main.ts"), worker: join(HERE, "src", "worker.ts"), trainer: join(HERE, "src", "trainer.ts") },
  outdir: OUT,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: false,
  metafile: true,
  alias,
  inject: [shim("process"), shim("buffer-global")],
  define: { global: "globalThis" },
  plugins: [files],
  logLevel: "warning",
});
for (const f of ["index.html", "playground.css"]) copyFileSync(join(HERE, f), join(OUT, f));
writeFileSync(join(OUT, "files.json"), filesJson());
for (const [file, o] of Object.entries(result.metafile.outputs)) console.log(`wrote ${relative(process.cwd(), file)} (${(o.bytes / 1024).toFixed(0)} KiB)`);
if (process.argv.includes("--meta")) writeFileSync(join(OUT, "meta.json"), JSON.stringify(result.metafile));
