// The forecasting features end to end, as a user, on files already uploaded: a session
// with a seasonal lag and the calendar at the output steps (a lag too short first: the
// service's violation beside its field) → build → a run of linear regression, LightGBM,
// seasonal naive (statsforecast) and their ensemble, watched until it succeeds (models
// without epochs shown working, then with validation MAE and intervals) → evaluate
// (a baseline per season, the baseline to beat, interval coverage) → Train automatically
// with a one-minute limit: its run appears, follows live and progresses, then is cancelled.
// axe-core on the new pages, no console errors.
//
// Environment: CONSOLE_URL, TSFORGE_TOKEN, SCREENSHOTS (a folder, or empty). Prints one JSON line.
import { join } from "node:path";
import { axeViolations, fillSessionForm, launch, sleep, until, watchErrors } from "./browser.mjs";

const BASE = process.env.CONSOLE_URL;
const TOKEN = process.env.TSFORGE_TOKEN;
const SHOTS = process.env.SCREENSHOTS || "";

const result = { steps: [], axe: {}, seen: {} };
const step = (name) => { result.steps.push({ name, at: Date.now() }); process.stderr.write(`e2e: ${name}\n`); };
let where = "start";

// Every state (and "working" indicator) a model row of the run page showed, polled.
async function watchRows(page, until_, everyMs = 50) {
  const seen = {};
  await until("the run to progress", async () => {
    const rows = await page.locator("[data-testid=run-models] tbody tr").evaluateAll((trs) => trs.map((tr) => ({
      model: tr.dataset.model, state: tr.dataset.state, working: !!tr.querySelector("[data-testid=working]"),
      text: tr.textContent,
    })));
    for (const r of rows) {
      const s = (seen[r.model] ??= { states: [], working: false, texts: [] });
      if (s.states.at(-1) !== r.state) s.states.push(r.state);
      if (r.working && !s.working) { s.working = true; s.texts.push(r.text); }
    }
    return until_(rows, await page.getByTestId("run-detail").getAttribute("data-state"));
  }, 180_000, everyMs);
  return seen;
}

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors = watchErrors(page, () => where);
  const audit = async (name) => {
    where = name;
    result.axe[name] = await axeViolations(page);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };

  step("sign in");
  await page.goto(`${BASE}/#token=${encodeURIComponent(TOKEN)}`);
  await page.getByTestId("file-list").waitFor();

  // --- A session with a lag of a day and the calendar at the output steps.
  step("session with lags");
  await page.goto(`${BASE}/#/sessions/new`);
  where = "session-form";
  const form = await fillSessionForm(page, "e2e forecasting", 6, 3);
  await form.getByLabel("day", { exact: true }).check();
  await form.getByRole("button", { name: "Add a lag of a day" }).click();
  const lag1 = form.getByRole("group", { name: "Lag 1" });
  result.suggestedLag = await lag1.getByLabel("Lag (hours)").inputValue();
  await lag1.getByLabel("Lag (hours)").fill("2"); // the outputs reach 3 h ahead: not known yet
  await form.getByTestId("future-calendar").getByLabel("day at the output steps").check();
  await form.getByRole("button", { name: "Create session" }).click();
  const lagError = form.locator('[data-field="session.spec.lags[0].lag_hours"] .field-error');
  await lagError.waitFor();
  result.lagError = await lagError.textContent();
  await audit("forecast-session-form");
  await lag1.getByLabel("Lag (hours)").fill(result.suggestedLag);
  await form.getByRole("button", { name: "Create session" }).click();
  await page.getByTestId("session-detail").waitFor();
  result.session = await page.evaluate(() => "sessions/" + window.location.hash.split("/")[2].split("?")[0]);
  result.sessionLags = await page.getByTestId("session-lags").textContent();

  step("dataset");
  await page.getByRole("button", { name: "Build dataset" }).click();
  await page.locator("[data-testid=dataset-detail][data-state=READY]").waitFor({ timeout: 60_000 });
  result.futureWindow = await page.getByTestId("future-window").textContent();

  // --- Linear, LightGBM, seasonal naive and their ensemble.
  step("run of the new kinds");
  await page.getByRole("link", { name: "Train models on this dataset" }).click();
  where = "run-form";
  const add = page.getByLabel("Add a model");
  await add.selectOption("lightgbm");
  await add.selectOption("seasonalNaive");
  await add.selectOption("ensemble");
  await page.getByRole("button", { name: "Remove model 1" }).click(); // dense: TensorFlow is not what this test is about
  const gbm = page.locator("fieldset[data-model-kind=lightgbm]");
  await gbm.locator("input[data-param=num_leaves]").fill("1");
  await page.getByRole("button", { name: "Start run" }).click();
  const leavesError = gbm.locator('[data-field="run.model_specs[1].lightgbm.num_leaves"] .field-error');
  await leavesError.waitFor();
  result.leavesError = await leavesError.textContent();
  await gbm.locator("input[data-param=num_leaves]").fill("8");
  await gbm.locator("input[data-param=n_estimators]").fill("30");
  await gbm.locator("input[data-param=min_child_samples]").fill("5");
  result.intervalNote = await page.getByTestId("interval-note").textContent();
  await audit("forecast-run-form");
  await page.getByRole("button", { name: "Start run" }).click();
  const detail = page.getByTestId("run-detail");
  await detail.waitFor();
  where = "forecast-run";
  result.run = await page.evaluate(() => "runs/" + window.location.hash.split("/")[2]);
  result.seen.run = await watchRows(page, (_rows, state) => state !== "QUEUED" && state !== "RUNNING");
  result.runState = await detail.getAttribute("data-state");
  result.models = await page.locator("[data-testid=run-models] tbody tr").evaluateAll((trs) => trs.map((tr) => ({
    model: tr.dataset.model, state: tr.dataset.state, type: tr.cells[1].textContent, intervals: tr.querySelector("[data-testid=intervals]").textContent,
  })));
  // GetRun is read again when the run ends: wait for its intervals to be shown.
  await until("intervals shown", async () => (await page.locator("[data-testid=run-models] [data-testid=intervals]").allTextContents()).every((t) => t.includes("%")), 15_000);
  result.models = await page.locator("[data-testid=run-models] tbody tr").evaluateAll((trs) => trs.map((tr) => ({
    model: tr.dataset.model, state: tr.dataset.state, type: tr.cells[1].textContent, intervals: tr.querySelector("[data-testid=intervals]").textContent,
  })));
  result.summary = await page.getByTestId("run-summary").textContent();
  await audit("forecast-run");

  // --- Evaluation: every season's baseline, the one to beat, interval coverage.
  step("evaluation");
  await page.getByRole("link", { name: "Evaluate" }).click();
  where = "forecast-evaluation";
  await page.getByRole("button", { name: "Evaluate" }).click();
  await page.locator("[data-testid=ranking] tbody tr").first().waitFor({ timeout: 90_000 });
  result.ranking = await page.locator("[data-testid=ranking] tbody tr").evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  result.baselines = await page.getByTestId("baseline-list").textContent();
  result.bestBaseline = await page.getByTestId("best-baseline").textContent();
  await page.locator("[data-testid=interval-table] tbody tr").first().waitFor();
  result.intervalRows = await page.locator("[data-testid=interval-table] tbody tr").evaluateAll((rows) => rows.map((r) => ({
    model: r.dataset.model, level: Number(r.dataset.level), coverage: r.querySelector("[data-metric=coverage]").textContent,
  })));
  await audit("forecast-evaluation");

  // --- Train automatically, one minute: the run appears, follows live, progresses.
  step("train automatically");
  await page.goto(`${BASE}/#/sessions/${result.session.split("/")[1]}`);
  where = "train-auto";
  const auto = page.getByTestId("train-auto");
  await auto.getByLabel("Time limit (minutes)").fill("0.5");
  await auto.getByRole("button", { name: "Train automatically" }).click();
  await auto.locator('[data-field="time_limit"] .field-error').waitFor();
  result.timeLimitError = await auto.locator('[data-field="time_limit"] .field-error').textContent();
  await auto.getByLabel("Time limit (minutes)").fill("1");
  const clickedAt = Date.now();
  await auto.getByRole("button", { name: "Train automatically" }).click();
  await detail.waitFor();
  where = "auto-run";
  result.autoRun = await page.evaluate(() => "runs/" + window.location.hash.split("/")[2]);
  result.autoPlan = await page.getByTestId("auto-plan").textContent();
  result.seen.auto = await watchRows(page, (rows, state) =>
    (state !== "QUEUED" && state !== "RUNNING") || (rows.some((r) => r.state === "SUCCEEDED") && rows.some((r) => r.state === "RUNNING")));
  result.autoProgressMs = Date.now() - clickedAt;
  result.autoState = await detail.getAttribute("data-state");
  result.autoLive = await detail.getAttribute("data-attaches");
  await audit("auto-run");
  if (result.autoState === "RUNNING") {
    await page.getByRole("button", { name: "Cancel run" }).click();
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/CancelRun")),
      page.getByRole("button", { name: "Cancel this run" }).click(),
    ]);
  }
  // The run list names the new kinds.
  await page.goto(`${BASE}/#/runs`);
  await page.getByRole("heading", { name: "Your runs" }).waitFor();
  await sleep(200);
  result.runList = await page.getByRole("list", { name: "Runs" }).textContent();

  result.consoleErrors = errors.map((e) => e.text);
  result.ok = true;
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result) + "\n");
