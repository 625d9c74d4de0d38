// Runs a scenario (argv[3], default scenario.mjs; a module of this folder exporting
// runScenario) through the gateway in Node ("node") or in headless Chromium ("browser")
// and prints its result as one JSON line. Inputs come from the environment:
// GATEWAY_URL, TSFORGE_TOKEN, FILE_NAME, STREAM_FILE_NAME, SCENARIO_ARGS (a JSON object
// merged into the scenario's arguments), and PAGE_PORT (browser only: the page is
// served from that port, so every call is a real cross-origin request).
import { createServer } from "node:http";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const mode = process.argv[2];
const scenario = process.argv[3] || "scenario.mjs";
const args = {
  baseUrl: process.env.GATEWAY_URL,
  token: process.env.TSFORGE_TOKEN,
  fileName: process.env.FILE_NAME,
  streamFileName: process.env.STREAM_FILE_NAME,
  ...JSON.parse(process.env.SCENARIO_ARGS || "{}"),
};

async function bundle() {
  const built = await esbuild.build({
    entryPoints: [join(here, scenario)], bundle: true, format: "esm", platform: "browser",
    target: "es2022", write: false, logLevel: "error",
  });
  return built.outputFiles[0].text;
}

async function inNode(code) {
  const dir = mkdtempSync(join(tmpdir(), "tsforge-scenario-"));
  try {
    const path = join(dir, "scenario.mjs");
    writeFileSync(path, code);
    const { runScenario } = await import(pathToFileURL(path).href);
    return await runScenario(args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function inBrowser(code) {
  const page = `<!doctype html><meta charset="utf-8"><title>tsforge grpc-web</title>
<script type="module">import { runScenario } from "/scenario.js"; window.runScenario = runScenario; window.ready = true;</script>`;
  const server = createServer((request, response) => {
    const js = request.url === "/scenario.js";
    response.writeHead(200, { "Content-Type": js ? "text/javascript" : "text/html" });
    response.end(js ? code : page);
  });
  await new Promise((resolve) => server.listen(Number(process.env.PAGE_PORT), "127.0.0.1", resolve));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const tab = await browser.newPage();
    const consoleErrors = [];
    tab.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
    await tab.goto(`http://127.0.0.1:${process.env.PAGE_PORT}/`);
    await tab.waitForFunction(() => window.ready === true, null, { timeout: 10000 });
    const result = await tab.evaluate((a) => window.runScenario(a), args);
    return { ...result, userAgent: await tab.evaluate(() => navigator.userAgent), consoleErrors };
  } finally {
    await browser.close();
    server.close();
  }
}

const code = await bundle();
const result = mode === "browser" ? await inBrowser(code) : await inNode(code);
process.stdout.write(JSON.stringify(result) + "\n");
