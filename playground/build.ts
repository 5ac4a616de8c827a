/**
 * `npm run playground:build`: the static playground in playground/dist/ (index.html, the page's
 * bundle, the language server's worker bundle and the course specs with browser-sized data).
 * Shared code that reads files or uses Node's modules gets browser forms of them (src/shims/);
 * vscode-languageserver's Node entry becomes its browser entry. Any web server can host the folder.
 */
import { build, type Plugin } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

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

function filesModule(): string {
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
  return `export const FILES = ${JSON.stringify(files)};\nexport const EXAMPLES = ${JSON.stringify(examples)};\n`;
}

const files: Plugin = {
  name: "nnspec-files",
  setup(b) {
    b.onResolve({ filter: /^nnspec:files$/ }, () => ({ path: "files", namespace: "nnspec" }));
    b.onLoad({ filter: /.*/, namespace: "nnspec" }, () => ({ contents: filesModule(), loader: "js" }));
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
  "node:crypto": shim("crypto"),
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
for (const [file, o] of Object.entries(result.metafile.outputs)) console.log(`wrote ${relative(process.cwd(), file)} (${(o.bytes / 1024).toFixed(0)} KiB)`);
