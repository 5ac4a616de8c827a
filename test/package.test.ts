/**
 * nnspec installed as a dependency: `npm pack`, then `npm install` of the tarball into a fresh
 * project, and every verb run there through node_modules/.bin/nnspec, as a user would. Catches a
 * runtime import that is only a devDependency, a file missing from the package, a path that only
 * works inside the clone. Installs from npm's cache when it can (`--prefer-offline`).
 */
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-languageserver-protocol/node";

const ROOT = resolve(".");
const work = mkdtempSync(join(tmpdir(), "nnspec-package-"));
const proj = join(work, "proj");
const bin = join(proj, "node_modules", ".bin", "nnspec");

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(bin, args, { cwd: proj, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    return { code: 0, stdout, stderr: "" };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, stdout: x.stdout, stderr: x.stderr };
  }
}

beforeAll(() => {
  execFileSync("npm", ["pack", "--pack-destination", work], { cwd: ROOT, stdio: "ignore" });
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
  mkdirSync(join(proj, "data"), { recursive: true });
  writeFileSync(join(proj, "package.json"), JSON.stringify({ name: "a-user-project", private: true, type: "module" }));
  execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(work, tarball)], { cwd: proj, stdio: "ignore" });
  copyFileSync(join(ROOT, "specs", "iris.nnspec"), join(proj, "iris.nnspec"));
  copyFileSync(join(ROOT, "specs", "data", "iris.csv"), join(proj, "data", "iris.csv"));
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("nnspec installed from its package into a fresh project", { timeout: 120_000 }, () => {
  it("checks, summarises, formats, lists layers and explains", () => {
    expect(run("--version").stdout).toMatch(/^nnspec \d/);
    const check = run("check", "iris.nnspec");
    expect(check.code, check.stderr).toBe(0);
    expect(run("summary", "iris.nnspec").stdout).toContain("iris_mlp");
    expect(run("fmt", "--check", "iris.nnspec").code).toBe(0);
    expect(run("layers", "dense").stdout).toMatch(/^dense <units>/);
    expect(run("explain", "NN0101").stdout).toMatch(/^NN0101/);
    // the graph's layout library is a runtime dependency
    const graph = run("graph", "iris.nnspec", "--format", "dot");
    expect(graph.code, graph.stderr).toBe(0);
    expect(graph.stdout).toContain('digraph "iris_mlp"');
    // A broken spec: located error, exit 1.
    writeFileSync(join(proj, "broken.nnspec"), readFileSync(join(proj, "iris.nnspec"), "utf8").replace("data/iris.csv", "data/iris.cvs"));
    const broken = run("check", "broken.nnspec");
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain("did you mean `data/iris.csv`?");
  });

  it("trains, evaluates and predicts", () => {
    const t = run("train", "iris.nnspec", "--train", "2", "--epochs", "3", "--quiet", "-o", "out/iris");
    expect(t.code, t.stderr).toBe(0);
    expect(existsSync(join(proj, "out", "iris", "model.json"))).toBe(true);
    expect(readFileSync(join(proj, "out", "iris", "graph.svg"), "utf8")).toContain("model iris_mlp");
    const e = run("eval", "iris.nnspec", "--model", "out/iris");
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/accuracy/);
    const p = run("predict", "iris.nnspec", "--model", "out/iris", "--input", "data/iris.csv", "-o", "pred.csv");
    expect(p.code, p.stderr).toBe(0);
    expect(readFileSync(join(proj, "pred.csv"), "utf8").split("\n").length).toBeGreaterThan(100);
  });

  it("builds TensorFlow.js code that runs in the project", () => {
    const b = run("build", "iris.nnspec", "--target", "tfjs");
    expect(b.code, b.stderr).toBe(0);
    const module = join(proj, "generated", "iris", "iris.ts");
    expect(existsSync(module)).toBe(true);
    // A user's script importing the generated module (what its README header suggests).
    writeFileSync(join(proj, "use.ts"), 'import { TRAININGS } from "./generated/iris/iris.ts";\nconst t = TRAININGS[1];\nconst d = await t.loadData();\nconst model = t.createModel();\nt.compile(model);\nawait t.train(model, d, { epochs: 2 });\nconsole.log(JSON.stringify(t.evaluate(model, d)));\n');
    const out = execFileSync(join(proj, "node_modules", ".bin", "tsx"), ["use.ts"], { cwd: proj, encoding: "utf8" });
    expect(JSON.parse(out.trim().split("\n").pop()!)).toHaveProperty("accuracy");
  });

  it("serves the playground it ships", async () => {
    const child = spawn(bin, ["playground", "--port", "0"], { cwd: proj, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((done, fail) => {
        let out = "";
        child.stdout.on("data", (d) => {
          out += String(d);
          const m = /http:\/\/\S+\//.exec(out);
          if (m) done(m[0]);
        });
        child.on("exit", (code) => fail(new Error(`nnspec playground exited (${code})`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("nnspec playground");
      expect((await fetch(`${url}worker.js`)).status).toBe(200);
    } finally {
      child.kill();
    }
  });

  it("starts the language server and answers initialize", async () => {
    const child = spawn(bin, ["lsp", "--stdio"], { cwd: proj, stdio: ["pipe", "pipe", "pipe"] });
    const conn = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    conn.listen();
    try {
      const init = (await conn.sendRequest("initialize", { processId: null, rootUri: null, capabilities: {} })) as { serverInfo?: { name: string } };
      expect(init.serverInfo?.name).toBe("nnspec");
      await conn.sendRequest("shutdown");
      const exited = new Promise((r) => child.on("exit", r));
      await conn.sendNotification("exit");
      await exited;
    } finally {
      conn.dispose();
      if (child.exitCode === null) child.kill();
    }
  });
});
