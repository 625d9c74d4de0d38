// Headless Chromium for the console's end-to-end run and bench: Debian's chromium
// driven by playwright-core (no browser download), axe-core injected from node_modules.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

// playwright's launch() gives the browser a fresh, temporary --user-data-dir itself.
export async function launch() {
  const args = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ];
  return chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args });
}

// Console errors and uncaught exceptions of a page, as they happen: { at, text }.
export function watchErrors(page, label = () => "") {
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push({ at: Date.now(), text: `${label()}: console: ${m.text()}` }); });
  page.on("pageerror", (e) => errors.push({ at: Date.now(), text: `${label()}: exception: ${e.message}` }));
  return errors;
}

// axe-core on the page as it is: the serious and critical violations.
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  return result.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export async function horizontalOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

export function percentile(values, p) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(what, check, timeoutMs = 60_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

// The new-session form (already open) with a name, the demo's two files (temperature in
// over -6..0 h, load out over 0..3 h) and the window's steps; returns the form.
export async function fillSessionForm(page, name, inputSteps, outputSteps) {
  const form = page.locator("form[aria-labelledby=new-session-heading]");
  await form.getByLabel("Name", { exact: true }).fill(name);
  const input1 = form.getByRole("group", { name: "Input 1" });
  const output1 = form.getByRole("group", { name: "Output 1" });
  await until("files in the form", async () => (await input1.getByLabel("File").locator("option").count()) > 1);
  await input1.getByLabel("File").selectOption({ label: "temperature (temperature.csv)" });
  await output1.getByLabel("File").selectOption({ label: "load (load.csv)" });
  await input1.getByLabel("Horizon start (h)").fill("-6");
  await output1.getByLabel("Horizon end (h)").fill("3");
  await form.getByLabel("Input steps (I_N)").fill(String(inputSteps));
  await form.getByLabel("Output steps (O_N)").fill(String(outputSteps));
  return form;
}
