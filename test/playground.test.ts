/**
 * The playground in a real browser: `npm run playground:build`, `nnspec playground --port 0`, then
 * Debian's chromium-headless-shell driven by playwright-core opens the page. nnspec's language server
 * runs in the page's Web Worker: a typo gets its diagnostic, the graph of the model under the cursor
 * is drawn and follows edits, and the console stays clean. Outside CI, without the browser, it skips
 * saying how to install it. UPDATE_SCREENSHOTS=1 writes the README's picture (docs/playground.png).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeShared } from "../playground/src/share.ts";

const ROOT = resolve(import.meta.dirname, "..");
const CHROMIUM = "/usr/bin/chromium-headless-shell";
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && !process.env.CI) console.warn(`skipping the playground test: no ${CHROMIUM} (apt-get install chromium-headless-shell)`);

describe.skipIf(!hasBrowser && !process.env.CI)("the playground", () => {
  let server: ChildProcess;
  let url: string;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    const built = spawnSync("npm", ["run", "--silent", "playground:build"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    expect(built.status, built.stderr).toBe(0);
    server = spawn(process.execPath, [join(ROOT, "bin", "nnspec.mjs"), "playground", "--port", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    url = await new Promise<string>((done, fail) => {
      let out = "";
      server.stdout!.on("data", (d) => {
        out += String(d);
        const m = /http:\/\/\S+\//.exec(out);
        if (m) done(m[0]);
      });
      server.on("exit", (code) => fail(new Error(`nnspec playground exited (${code})`)));
    });
    browser = await chromium.launch({ executablePath: CHROMIUM });
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill();
  });

  it("opens a course spec and draws its models, with the shapes on the edges", async () => {
    await page.locator(".cm-content").waitFor();
    expect(await page.locator("#examples").inputValue()).toBe("iris");
    await expect.poll(() => page.locator("#graph svg").count(), { timeout: 20_000 }).toBe(1);
    const graph = await page.locator("#graph svg").textContent();
    expect(graph).toContain("model iris_mlp");
    expect(graph).toContain("[*, 16]");
    // every browser-sized course spec is offered
    const examples = await page.locator("#examples option").allTextContents();
    expect(examples).toEqual(expect.arrayContaining(["iris", "wine", "digits", "breast_cancer", "diabetes", "boston_linear", "residual"]));
    expect(examples).not.toContain("mnist_cnn"); // Fashion-MNIST is not shipped to the page
  });

  it("shows each layer's output shape at the end of its line", async () => {
    await expect.poll(() => page.locator(".cm-inlay-hint").allTextContents(), { timeout: 20_000 }).toEqual(expect.arrayContaining(["→ [*, 16]", "→ [*, 3]"]));
  });

  it("shows the language server's diagnostic for a typo, and the graph follows the edit", async () => {
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("\nmodel extra(x: [4]) -> y: [3] {\n  h = dense 8 relu\n  dens 3\n");
    await expect.poll(() => page.locator(".cm-lintRange-error").count(), { timeout: 20_000 }).toBeGreaterThan(0);
    // the cursor sits in the new model: its picture, with the error on the unknown layer
    const graph = async () => (await page.locator("#graph svg").textContent()) ?? "";
    await expect.poll(graph, { timeout: 20_000 }).toContain("NN0201: unknown layer kind `dens`");
    expect(await graph()).toContain("model extra");
    expect(await graph()).not.toContain("model iris_mlp");
    await page.locator(".cm-lintRange-error").first().hover();
    await expect.poll(async () => (await page.locator(".cm-tooltip").allTextContents()).join(" "), { timeout: 10_000 }).toContain("unknown layer kind `dens`");
    if (process.env.UPDATE_SCREENSHOTS) {
      mkdirSync(join(ROOT, "docs"), { recursive: true });
      await page.screenshot({ path: join(ROOT, "docs", "playground.png") });
    }
    // the fix is an action of the diagnostic: applying it turns `dens` into `dense`
    await page.locator(".cm-diagnosticAction", { hasText: "replace with `dense`" }).click();
    await expect.poll(() => page.locator(".cm-content").textContent(), { timeout: 10_000 }).toContain("dense 3");
    await expect.poll(() => page.locator(".cm-lintRange-error").count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(async () => (await page.locator("#graph svg").textContent()) ?? "", { timeout: 20_000 }).not.toContain("NN0201");
  });

  it("keeps the spec in the address: the link opens the same spec in a fresh page", async () => {
    const link = page.url();
    expect(link).toMatch(/#example=iris&spec=/);
    const fresh = await browser.newPage();
    fresh.on("pageerror", (e) => problems.push(e.message));
    await fresh.goto(link);
    await expect.poll(() => fresh.locator(".cm-content").textContent(), { timeout: 20_000 }).toContain("model extra(x: [4]) -> y: [3] {");
    // the fix applied before the link was taken is in it (the editor draws only the lines in view)
    await fresh.keyboard.press("Control+End");
    await expect.poll(() => fresh.locator(".cm-content").textContent(), { timeout: 10_000 }).toContain("dense 3");
    expect(await fresh.locator(".cm-content").textContent()).not.toContain("dens 3");
    await expect.poll(async () => (await fresh.locator("#graph svg").textContent()) ?? "", { timeout: 20_000 }).toContain("model iris_mlp");
    // another example, then a damaged link: the page opens the example it names
    await fresh.goto(`${url}#example=wine&spec=not-a-spec`);
    await fresh.reload();
    await expect.poll(() => fresh.locator(".cm-content").textContent(), { timeout: 20_000 }).toContain("data wine");
    await fresh.close();
  });

  it("trains iris in the page: live curves, the test report, and the model to download; Stop ends a run", { timeout: 180_000 }, async () => {
    const p = await browser.newPage();
    p.on("pageerror", (e) => problems.push(e.message));
    p.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    await p.goto(`${url}#example=iris`);
    await p.locator(".cm-content").waitFor();
    // the cursor in the MLP's train block: that block trains
    await p.locator(".cm-line", { hasText: "train iris_mlp on iris" }).click();
    await p.locator("#train").click();
    await expect.poll(() => p.locator("#curves svg").count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => p.locator("#report").textContent(), { timeout: 120_000 }).toMatch(/^test \(45 examples\)/);
    const report = (await p.locator("#report").textContent())!;
    const accuracy = Number(/accuracy (\d\.\d+)/.exec(report)![1]);
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
    expect(report).toContain("confusion matrix");
    expect(await p.locator("#progress").textContent()).toContain("iris_mlp on iris");
    // `nnspec playground` serves the page cross-origin isolated: the trainer shares products with helper workers
    expect(await p.evaluate(() => crossOriginIsolated)).toBe(true);
    const cores = await p.evaluate(() => navigator.hardwareConcurrency);
    expect(await p.locator("#progress").textContent()).toContain(`${Math.min(cores, 4)} thread`);
    // the download is a tfjs model.json that names the model's layers
    const href = await p.locator("#downloads a", { hasText: "model.json" }).getAttribute("href");
    const json = await p.evaluate(async (h) => (await fetch(h!)).text(), href);
    expect(JSON.parse(json).modelTopology.config.layers.map((l: { name: string }) => l.name)).toEqual(["x", "dense_1", "dense_2"]);
    // a long run, opened from a link, stopped: the button ends it and the page stays usable
    const long = readFileSync(join(ROOT, "specs", "iris.nnspec"), "utf8").replace("epochs 200", "epochs 100000");
    await p.goto(`${url}${encodeShared({ example: "iris", text: long })}`);
    await p.reload();
    await p.locator(".cm-line", { hasText: "train iris_softmax on iris" }).click();
    await p.locator("#train").click();
    await expect.poll(() => p.locator("#progress").textContent(), { timeout: 30_000 }).toMatch(/epoch \d+\/100000/);
    await p.locator("#stop").click();
    expect(await p.locator("#progress").textContent()).toMatch(/iris_softmax on iris, \d threads?: stopped after epoch \d+ of 100000/);
    expect(await p.locator("#train").isEnabled()).toBe(true);
    await p.close();
  });

  it("trains on a CSV the user adds: the file joins the workers' files, a data block for it starts the spec", { timeout: 180_000 }, async () => {
    const p = await browser.newPage();
    p.on("pageerror", (e) => problems.push(e.message));
    const spec = `model m(x: [4]) -> logits: [3] {\n  dense 16 relu\n  dense 3\n}\n\ntrain m on flowers {\n  loss sparse_cross_entropy(from_logits: true)\n  optimizer adam lr: 0.01\n  epochs 100\n}\n`;
    await p.goto(`${url}${encodeShared({ example: "iris", text: spec })}`);
    await p.reload();
    await expect.poll(() => p.locator(".cm-lintRange-error").count(), { timeout: 20_000 }).toBeGreaterThan(0); // no data `flowers` yet
    // iris's rows under a header of the user's own
    const rows = readFileSync(join(ROOT, "specs", "data", "iris.csv"), "utf8").trim().split("\n").slice(1);
    await p.locator("#csv").setInputFiles({ name: "flowers.csv", mimeType: "text/csv", buffer: Buffer.from(`a,b,c,d,species\n${rows.join("\n")}\n`) });
    await expect.poll(() => p.locator(".cm-content").textContent(), { timeout: 10_000 }).toContain('from "data/flowers.csv" header: true');
    expect(await p.locator(".cm-content").textContent()).toContain("label species: class(3)");
    await expect.poll(() => p.locator(".cm-lintRange-error").count(), { timeout: 20_000 }).toBe(0);
    await p.locator(".cm-line", { hasText: "train m on flowers" }).click();
    await p.locator("#train").click();
    await expect.poll(() => p.locator("#report").textContent(), { timeout: 120_000 }).toMatch(/^test \(45 examples\)/);
    expect(Number(/accuracy (\d\.\d+)/.exec((await p.locator("#report").textContent())!)![1])).toBeGreaterThanOrEqual(0.9);
    await p.close();
  });

  it("keeps each bundle within the size budget written in playground/budget.json", () => {
    const budget = JSON.parse(readFileSync(join(ROOT, "playground", "budget.json"), "utf8")) as Record<string, number | string>;
    const over: string[] = [];
    for (const [file, limit] of Object.entries(budget)) {
      if (typeof limit !== "number") continue;
      const size = gzipSync(readFileSync(join(ROOT, "playground", "dist", file)), { level: 9 }).length;
      if (size > limit) over.push(`${file}: ${size} bytes gzipped, budget ${limit}`);
    }
    expect(over).toEqual([]);
  });

  it("logs no error in the page or its worker", () => {
    expect(problems).toEqual([]);
  });
});
