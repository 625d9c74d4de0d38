// The console end to end, as a user: sign in → upload two CSV files (one interrupted
// by a reload and resumed) → a session (first an invalid window: field errors; then
// valid) → build the dataset → train dense + linear, watching the loss chart grow
// while RUNNING and reloading mid-run (no point lost or doubled) → evaluate (ranking,
// baselines) → register → alias production → download the bundle → predict.
// axe-core on every page, no console errors, screenshots of every page.
//
// Environment: CONSOLE_URL, TSFORGE_TOKEN, DATA_DIR (temperature.csv, load.csv),
// EPOCHS, SCREENSHOTS (a folder, or empty for none). Prints one JSON line.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { axeViolations, fillSessionForm, horizontalOverflow, launch, percentile, sleep, until, watchErrors } from "./browser.mjs";

const BASE = process.env.CONSOLE_URL;
const TOKEN = process.env.TSFORGE_TOKEN;
const DATA = process.env.DATA_DIR;
const EPOCHS = Number(process.env.EPOCHS || 40);
const SHOTS = process.env.SCREENSHOTS || "";
const LOAD = join(DATA, "load.csv");
const TEMPERATURE = join(DATA, "temperature.csv");
const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");

const result = { steps: [], axe: {}, overflow390: {}, metrics: {} };
// While the harness audits or photographs a page it holds the page's thread: events
// that arrive then are delayed by the test, not by the console, and are left out.
const harnessBusy = [];

const step = (name) => { result.steps.push({ name, at: Date.now() }); process.stderr.write(`e2e: ${name}\n`); };
let where = "start";

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors = watchErrors(page, () => where);
  const audit = async (name) => {
    where = name;
    const from = Date.now();
    result.axe[name] = await axeViolations(page);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    harnessBusy.push([from, Date.now()]);
  };
  const draws = () => page.evaluate(() => window.__tsforgeMetrics.chartDraws.slice());

  // --- Sign-in: a bad token comes back to sign-in with the reason; a good one signs in.
  step("sign in");
  where = "signin";
  await page.goto(`${BASE}/`);
  await page.getByLabel("Bearer token").waitFor();
  await audit("signin");
  await page.getByLabel("Bearer token").fill("not-a-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  const reason = await page.getByRole("alert").filter({ hasText: "Signed out" }).textContent();
  result.badTokenReason = reason;

  await page.goto("about:blank");
  await page.goto(`${BASE}/#token=${encodeURIComponent(TOKEN)}`);
  await page.getByTestId("file-list").waitFor();
  const hash = await page.evaluate(() => window.location.hash);
  if (hash.includes("token")) throw new Error(`the token stayed in the address bar: ${hash}`);
  result.metrics.coldNavigationToFileListMs = await page.evaluate(() => window.__tsforgeMetrics?.firstFileListMs ?? null);
  // Navigation → first file list, signed in (the token in sessionStorage), page cache
  // warm as for a returning user: the page's own clock from navigation start.
  const navigations = [];
  for (let i = 0; i < 5; i++) {
    await page.reload();
    await page.getByTestId("file-list").waitFor();
    navigations.push(await page.evaluate(() => window.__tsforgeMetrics?.firstFileListMs ?? null));
  }
  result.metrics.navigationToFileListMs = navigations;

  // Keyboard: the skip link comes first and moves focus to the page.
  await page.keyboard.press("Tab");
  const skip = await page.evaluate(() => document.activeElement?.textContent);
  if (skip !== "Skip to content") throw new Error(`the first Tab stop is ${skip}`);
  await page.keyboard.press("Enter");
  result.focusAfterSkip = await page.evaluate(() => document.activeElement?.id);

  // --- Files: load.csv in 8 KiB chunks, slowed down, reloaded mid-way and resumed.
  step("upload with a reload");
  where = "files";
  await page.evaluate(() => localStorage.setItem("tsforge.uploadChunkBytes", "8192"));
  // A request cut off by the reload is already gone when its delay ends.
  const slow = async (route) => { await sleep(250); await route.continue().catch(() => {}); };
  await page.route("**/tsforge.upload.v1.UploadService/WriteUploadChunk", slow);
  const uploadPanel = page.locator("section[aria-labelledby=upload-heading]");
  await uploadPanel.getByLabel("Role").selectOption("OUTPUT");
  await page.locator("#file-picker").setInputFiles(LOAD);
  const job = page.locator('li.job[data-upload-file="load.csv"]');
  await until("two chunks acknowledged", async () => {
    const sent = await page.evaluate(() => JSON.stringify(Object.keys(localStorage).filter((k) => k.startsWith("tsforge.upload:")).map((k) => JSON.parse(localStorage.getItem(k)))));
    const points = JSON.parse(sent);
    return points.length === 1 && points[0].hashedOffset >= 2 * 8192;
  }, 30_000, 50);
  await page.reload();
  await page.getByTestId("file-list").waitFor();
  await page.getByRole("heading", { name: "Unfinished uploads" }).waitFor();
  await page.unroute("**/tsforge.upload.v1.UploadService/WriteUploadChunk", slow);
  await uploadPanel.getByLabel("Role").selectOption("OUTPUT");
  await page.locator("#file-picker").setInputFiles(LOAD);
  await job.locator(".note").filter({ hasText: "resumed at" }).waitFor();
  result.resumedAt = await job.locator(".note").textContent();
  await page.locator('li.job[data-upload-file="load.csv"][data-phase="done"]').waitFor({ timeout: 60_000 });

  await uploadPanel.getByLabel("Role").selectOption("INPUT");
  await page.locator("#file-picker").setInputFiles(TEMPERATURE);
  await page.locator('li.job[data-upload-file="temperature.csv"][data-phase="done"]').waitFor({ timeout: 60_000 });
  await page.evaluate(() => localStorage.removeItem("tsforge.uploadChunkBytes"));

  // The resumed file's SHA-256, as the service computed it, is the local file's.
  await page.locator('li.job[data-upload-file="load.csv"] a').click();
  await page.getByTestId("file-detail").waitFor();
  await page.getByTestId("preview").waitFor();
  const serverSha = (await page.locator("[data-testid=file-detail] dd.mono").textContent()).trim();
  if (serverSha !== sha256(LOAD)) throw new Error(`load.csv: service SHA-256 ${serverSha} ≠ local ${sha256(LOAD)}`);
  result.uploadedSha256 = serverSha;
  const detailCard = page.getByTestId("file-detail");
  await detailCard.getByLabel("Description").fill("hourly load, kW");
  await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/UpdateFile")),
    detailCard.getByRole("button", { name: "Save" }).click(),
  ]);
  await page.reload();
  await page.getByTestId("preview").waitFor();
  result.savedDescription = await page.getByTestId("file-detail").getByLabel("Description").inputValue();
  await audit("files");

  // --- Sessions: an invalid window first (every violation beside its field), then valid.
  step("session");
  await page.getByRole("link", { name: "Sessions" }).click();
  await page.getByRole("link", { name: "New session" }).click();
  where = "session-form";
  const form = await fillSessionForm(page, "e2e load", 5000, 3);
  await form.getByLabel("Offset (minutes, OFST)").fill("90");
  await form.getByRole("button", { name: "Create session" }).click();
  const inputStepsError = form.locator('[data-field="session.spec.window.input_steps"] .field-error');
  const offsetError = form.locator('[data-field="session.spec.window.offset_minutes"] .field-error');
  await inputStepsError.waitFor();
  await offsetError.waitFor();
  result.fieldErrors = [await inputStepsError.textContent(), await offsetError.textContent()];
  await audit("session-form-errors");
  await form.getByLabel("Input steps (I_N)").fill("6");
  await form.getByLabel("Offset (minutes, OFST)").fill("0");
  await form.getByLabel("day", { exact: true }).check();
  await form.getByRole("button", { name: "Create session" }).click();
  await page.getByTestId("session-detail").waitFor();

  // --- Dataset build, followed live.
  step("dataset");
  where = "session";
  await page.getByRole("button", { name: "Build dataset" }).click();
  await page.locator("[data-testid=dataset-detail][data-state=READY]").waitFor({ timeout: 120_000 });
  result.windowCounts = await page.getByTestId("window-counts").textContent();
  await until("violin plots", async () => (await page.locator("img.plot").count()) > 0 && (await page.locator("img.plot").evaluateAll((imgs) => imgs.every((i) => i.complete && i.naturalWidth > 0))));
  await audit("session-dataset");

  // --- A run of dense + linear, watched live, reloaded mid-run.
  step("run");
  await page.getByRole("link", { name: "Train models on this dataset" }).click();
  where = "run-form";
  const dense = page.locator("fieldset[data-model-index='0']");
  await dense.locator("input[data-param=layers]").fill("1");
  await dense.locator("input[data-param=units]").fill("8");
  await dense.locator("input[data-param=epochs]").fill(String(EPOCHS));
  await dense.locator("input[data-param=batch_size]").fill("16");
  await dense.locator("input[data-param=early_stopping_patience]").fill(String(EPOCHS));
  await audit("run-form");
  await page.getByRole("button", { name: "Start run" }).click();
  const detail = page.getByTestId("run-detail");
  await detail.waitFor();
  where = "run";
  result.run = await page.evaluate(() => "runs/" + window.location.hash.split("/")[2]);
  result.dataset = new URLSearchParams((await detail.getByRole("link").first().getAttribute("href")).split("?")[1]).get("dataset");
  const denseRows = () => page.locator("[data-testid=loss-table] tr[data-model=dense]").count();
  const seen = [];
  await until("the loss chart growing while RUNNING", async () => {
    const state = await detail.getAttribute("data-state");
    const count = await denseRows();
    if (state === "RUNNING" && count > 0 && seen.at(-1)?.count !== count) seen.push({ count, at: Date.now() });
    if (state !== "RUNNING" && state !== "QUEUED") throw new Error(`the run ended (${state}) before the chart grew enough: ${JSON.stringify(seen)}`);
    return seen.length >= 4;
  }, 180_000, 100);
  result.liveUpdates = seen;
  await audit("run-live");
  result.metrics.chartDraws = await draws();
  const beforeReload = { count: await denseRows(), sequence: Number(await detail.getAttribute("data-last-sequence")) };
  await page.reload();
  await detail.waitFor();
  const afterReload = {
    count: await denseRows(),
    attachedAfter: Number(await detail.getAttribute("data-attached-after")),
    state: await detail.getAttribute("data-state"),
  };
  result.reload = { beforeReload, afterReload };
  if (afterReload.count < beforeReload.count) throw new Error(`points lost in the reload: ${JSON.stringify(result.reload)}`);
  if (afterReload.state !== "SUCCEEDED" && afterReload.attachedAfter < beforeReload.sequence) {
    throw new Error(`re-attached after ${afterReload.attachedAfter}, expected ≥ ${beforeReload.sequence}`);
  }
  await page.locator("[data-testid=run-detail][data-state=SUCCEEDED]").waitFor({ timeout: 300_000 });
  result.denseEpochs = await page.locator("[data-testid=loss-table] tr[data-model=dense]").evaluateAll((rows) => rows.map((r) => Number(r.dataset.epoch)));
  const sorted = [...result.denseEpochs].sort((a, b) => a - b);
  if (new Set(sorted).size !== sorted.length || sorted.some((e, i) => e !== i + 1)) {
    throw new Error(`dense epochs lost or doubled: ${sorted.join(",")}`);
  }
  result.metrics.chartDraws.push(...(await draws()));

  // --- Evaluation: the ranking with the baselines, the overall tables, a service PNG.
  step("evaluation");
  await page.getByRole("link", { name: "Evaluate" }).click();
  where = "evaluation";
  await page.getByRole("button", { name: "Evaluate" }).click();
  await page.locator("[data-testid=ranking] tbody tr").first().waitFor({ timeout: 120_000 });
  result.ranking = await page.locator("[data-testid=ranking] tbody tr").evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  // Seasonal naive once per season, each named by its season ("… (1 day = 24 steps)").
  for (const b of ["baseline: naive", "baseline: seasonal naive (", "baseline: training mean"]) {
    if (!result.ranking.some((r) => r[1] === b || (b.endsWith("(") && r[1].startsWith(b)))) throw new Error(`${b} is not in the ranking`);
  }
  await page.locator("[data-testid=overall] table").first().waitFor();
  await page.locator("[data-testid=predictions] .chart").first().waitFor({ timeout: 60_000 });
  await page.getByRole("button", { name: "Render" }).click();
  await page.locator("img[alt*='drawn by the evaluation service']").waitFor({ timeout: 60_000 });
  await audit("evaluation");

  // --- Registry: register linear, alias production, download the bundle, predict.
  step("registry");
  await page.goto(`${BASE}/#/runs/${result.run.split("/")[1]}`);
  await page.locator("[data-testid=run-detail][data-state=SUCCEEDED]").waitFor();
  await page.getByRole("link", { name: "Register a model" }).click();
  where = "registry";
  const register = page.locator("form[aria-labelledby=register-heading]");
  await until("the run's models", async () => (await register.getByLabel("Model of the run").locator("option").count()) > 2);
  await register.getByLabel("Model of the run").selectOption(`${result.run}/models/linear`);
  await register.getByLabel("Registered model name").fill("load-forecast");
  await register.getByRole("button", { name: "Register" }).click();
  await page.getByTestId("version-detail").waitFor({ timeout: 60_000 });
  await page.getByLabel("Alias", { exact: true }).fill("production");
  await page.getByRole("button", { name: "Set alias" }).click();
  await page.getByTestId("aliases").filter({ hasText: "production → v1" }).waitFor();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("form[aria-label='Download this version']").getByRole("button", { name: "Download" }).click(),
  ]);
  const saved = await download.path();
  const bytes = readFileSync(saved);
  const done = page.getByTestId("download-done");
  await done.waitFor();
  result.download = {
    fileName: download.suggestedFilename(), size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"),
    shownSize: Number(await done.getAttribute("data-size")), zip: bytes.subarray(0, 2).toString("latin1") === "PK",
  };
  const predict = page.getByTestId("predict");
  await predict.getByLabel("Model version").fill("load-forecast@production");
  await predict.getByRole("button", { name: "Predict" }).click({ timeout: 30_000 });
  await page.locator("[data-testid=forecast-table] tbody tr").first().waitFor({ timeout: 60_000 });
  await page.locator("[data-testid=forecast] .chart").first().waitFor();
  result.forecast = {
    modelVersion: await page.getByTestId("forecast").getAttribute("data-model-version"),
    rows: await page.locator("[data-testid=forecast-table] tbody tr").count(),
  };
  await audit("registry");

  // --- Cancel: a long run stops at its next batch and ends CANCELLED.
  step("cancel");
  await page.goto(`${BASE}/#/runs?dataset=${encodeURIComponent(result.dataset)}`);
  where = "run-form";
  const long = page.locator("fieldset[data-model-index='0']");
  await long.locator("input[data-param=units]").fill("8");
  await long.locator("input[data-param=epochs]").fill("2000");
  await long.locator("input[data-param=early_stopping_patience]").fill("2000");
  await page.getByRole("button", { name: "Remove model 2" }).click();
  await page.getByRole("button", { name: "Start run" }).click();
  await page.locator("[data-testid=run-detail][data-state=RUNNING]").waitFor({ timeout: 120_000 });
  where = "run-cancel";
  await page.getByRole("button", { name: "Cancel run" }).click();
  await page.getByRole("button", { name: "Cancel this run" }).click();
  await page.locator("[data-testid=run-detail][data-state=CANCELLED]").waitFor({ timeout: 60_000 });
  result.cancelled = await page.locator("[data-testid=run-models] tr[data-model=dense]").getAttribute("data-state");

  // --- Runs list and the narrow viewport: nothing wider than 390 px.
  step("narrow viewport");
  await page.goto(`${BASE}/#/runs`);
  await page.getByRole("heading", { name: "Your runs" }).waitFor();
  where = "runs";
  await audit("runs");
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [name, path, ready] of [
    ["files", "#/files", "[data-testid=file-list]"],
    ["run", `#/${result.run}`, "[data-testid=run-detail]"],
    ["evaluation", `#/evaluation/${result.run.split("/")[1]}`, "[data-testid=ranking]"],
    ["registry", "#/registry/load-forecast", "[data-testid=version-detail]"],
  ]) {
    where = `${name}-390`;
    await page.goto(`${BASE}/${path}`);
    await page.locator(ready).first().waitFor();
    await sleep(300);
    result.overflow390[name] = await horizontalOverflow(page);
    if (SHOTS && name === "run") await page.screenshot({ path: join(SHOTS, "run-390.png"), fullPage: true });
  }

  result.consoleErrors = errors.map((e) => e.text);
  // Live epochs before the reload and after it (the page's own list restarts with it),
  // less those the harness held up.
  const held = (d) => harnessBusy.some(([from, to]) => d.drawnMs >= from && d.eventMs <= to);
  const kept = result.metrics.chartDraws.filter((d) => !held(d));
  const delays = kept.map((d) => d.drawnMs - d.eventMs);
  result.delays = {
    p50: percentile(delays, 50), p99: percentile(delays, 99), max: Math.max(...delays), count: delays.length,
    leftOut: result.metrics.chartDraws.length - kept.length,
  };
  result.ok = true;
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
