// Loads a running job's dashboard in headless Chromium (Debian's, driven by playwright-core) and
// checks that the job graph and the throughput chart render with live values; saves a screenshot.
//
//   node web/test/dashboard.test.mjs <dashboard url> <screenshot.png> [expected operators]
// Exit status 0 when every check passes. The machine's network is closed: Chromium gets flags that
// keep it from calling home, and a fresh profile directory that is removed afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url, screenshot, expectedOperators = "3"] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error("usage: dashboard.test.mjs <dashboard url> <screenshot.png> [expected operators]");
  process.exit(2);
}

const profile = mkdtempSync(join(tmpdir(), "sluice-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.SLUICE_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (err) => { console.error("page error:", err.message); failed = true; });
  await page.goto(url);
  // The graph: one box per operator.
  await page.waitForFunction(
    (n) => document.querySelectorAll("#graph g.node").length === n, Number(expectedOperators),
    { timeout: 20000 });
  // Live numbers: some operator shows a non-zero rate.
  await page.waitForFunction(() => [...document.querySelectorAll("#graph .rate")]
    .some((t) => parseFloat(t.textContent) > 0), null, { timeout: 20000 });
  // The throughput chart is drawn, with at least two points and a non-zero value.
  await page.waitForFunction(() => {
    const canvas = document.querySelector("#chart-throughput .uplot canvas");
    return canvas && canvas.width > 0 && window.sluiceCharts &&
      window.sluiceCharts["chart-throughput"].data[0].length >= 2 &&
      window.sluiceCharts["chart-throughput"].data[1].some((v) => v > 0);
  }, null, { timeout: 20000 });
  const names = await page.$$eval("#graph g.node", (g) => g.map((n) => n.dataset.operator));
  const rates = await page.$$eval("#graph .rate", (t) => t.map((x) => x.textContent));
  const summary = await page.textContent("#summary");
  console.log(`operators: ${names.join(", ")}`);
  console.log(`rates: ${rates.join(", ")}`);
  console.log(`summary: ${summary}`);
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`screenshot: ${screenshot}`);
} catch (err) {
  console.error("dashboard check failed:", err.message);
  failed = true;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
