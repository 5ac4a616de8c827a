// Builds the .vsix: copies the grammar and language configuration from grammar/ (generated there by
// `npm run grammar`, never edited here), bundles the client with vscode-languageclient into
// dist/extension.js, and packages with @vscode/vsce. Nothing is published.
//
//   node editors/vscode/build.mjs [--out FILE_OR_DIR]      (npm run vsix -- --out /tmp/x)
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { out: { type: "string" } } });

const manifest = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const out = values.out ? resolve(values.out) : join(here, `${manifest.name}-${manifest.version}.vsix`);
const outFile = out.endsWith(".vsix") ? out : join(out, `${manifest.name}-${manifest.version}.vsix`);
mkdirSync(dirname(outFile), { recursive: true });

mkdirSync(join(here, "syntaxes"), { recursive: true });
copyFileSync(join(root, "grammar", "nnspec.tmLanguage.json"), join(here, "syntaxes", "nnspec.tmLanguage.json"));
copyFileSync(join(root, "grammar", "language-configuration.json"), join(here, "language-configuration.json"));

const bundle = await build({
  entryPoints: [join(here, "src", "extension.js")],
  outfile: join(here, "dist", "extension.js"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  external: ["vscode"],
  minify: true,
  metafile: true,
  logLevel: "warning",
});

// The licenses of the packages bundled into extension.js, shipped beside it.
const packages = new Map();
for (const input of Object.keys(bundle.metafile.inputs)) {
  const m = /^(.*node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/.exec(input);
  if (m) packages.set(resolve(root, m[1]), true);
}
const notices = [...packages.keys()].sort().map((dir) => {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  return `${pkg.name} ${pkg.version} (${pkg.license})\n\n${file && existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8").trim() : `License: ${pkg.license}`}\n`;
});
writeFileSync(join(here, "dist", "THIRD-PARTY-NOTICES.txt"), `dist/extension.js bundles these packages:\n\n${notices.join("\n---\n\n")}`);

// The CLI, so the packaging is exactly what `vsce package` does by hand.
const vsce = join(dirname(require.resolve("@vscode/vsce/package.json")), "vsce");
execFileSync(process.execPath, [vsce, "package", "--no-dependencies", "--skip-license", "--allow-missing-repository", "--out", outFile], { cwd: here, stdio: ["ignore", "inherit", "inherit"] });
console.log(outFile);
