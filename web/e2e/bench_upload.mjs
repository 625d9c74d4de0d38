// The console uploads one big file (default 5 MiB chunks) while the tab's memory is
// sampled: the renderer's resident set (/proc) and the JS heap (CDP Performance).
// Environment: CONSOLE_URL, TSFORGE_TOKEN, FILE. Prints one JSON line.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { launch, sleep } from "./browser.mjs";

const BASE = process.env.CONSOLE_URL;
const FILE = process.env.FILE;

function rssMiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${BASE}/#token=${encodeURIComponent(process.env.TSFORGE_TOKEN)}`);
  await page.getByTestId("file-list").waitFor();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const browserCdp = await browser.newBrowserCDPSession();
  const { processInfo } = await browserCdp.send("SystemInfo.getProcessInfo");
  const renderers = processInfo.filter((p) => p.type === "renderer").map((p) => p.id);
  const sample = async () => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    const heap = metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? 0;
    const rss = renderers.map(rssMiB).filter((v) => v != null);
    return { heapMiB: heap / 2 ** 20, rendererRssMiB: rss.length ? Math.max(...rss) : null };
  };
  const before = await sample();
  const samples = [];
  await page.locator("#file-picker").setInputFiles(FILE);
  const name = basename(FILE);
  const done = page.locator(`li.job[data-upload-file="${name}"][data-phase="done"]`);
  const failed = page.locator(`li.job[data-upload-file="${name}"][data-phase="failed"]`);
  for (;;) {
    samples.push(await sample());
    if (await done.count()) break;
    if (await failed.count()) throw new Error(await failed.textContent());
    await sleep(500);
  }
  const upload = await page.evaluate(() => window.__tsforgeMetrics.uploads.at(-1));
  const peak = (key, from = 0, to = 1) =>
    Math.max(...samples.slice(Math.floor(from * samples.length), Math.max(1, Math.ceil(to * samples.length))).map((s) => s[key] ?? 0));
  process.stdout.write(JSON.stringify({
    upload, before, peakHeapMiB: peak("heapMiB"), peakRendererRssMiB: peak("rendererRssMiB"), samples: samples.length,
    // Flat means bounded by the chunks in flight, not growing with the bytes sent.
    rssPeakFirstQuarterMiB: peak("rendererRssMiB", 0, 0.25), rssPeakLastQuarterMiB: peak("rendererRssMiB", 0.75, 1),
  }) + "\n");
} finally {
  await browser.close();
}
