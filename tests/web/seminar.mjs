// End-to-end test of the seminar view in headless Chromium (Debian's chromium, driven by
// playwright-core; no browser download). Usage: NODE_MODULES=DIR node seminar.mjs URL OUTDIR
// (DIR: a node_modules folder holding playwright-core; .ci/run installs it into target/).
// Run by tests/suite/serve.rs, which starts `ruralgov serve --port 0`. It loads the page,
// presses play, checks that the tiles and charts change, moves a slider, checks that the A/B
// difference appears, downloads the scenario, saves screenshots, and fails on any console
// error.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const { chromium } = createRequire(join(process.env.NODE_MODULES || "node_modules", "x.js"))("playwright-core");
const [url, out] = process.argv.slice(2);
const fail = (why) => {
  console.error("FAIL: " + why);
  process.exit(1);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll("#tiles-b .tile").length > 0, null, { timeout: 60000 });
  const tiles = () => page.$$eval("#tiles-a .tile", (ts) => ts.map((t) => t.style.background).join("|"));
  const month = () => page.$eval("#date", (d) => Number((d.textContent.match(/month (\d+)/) || [0, -1])[1]));
  await page.screenshot({ path: join(out, "serve-start.png") });
  const before = await tiles();
  if ((await month()) !== 0) fail("a new session should start at month 0");

  // Move a slider before playing: legal services to its maximum, in copy B.
  await page.$eval('input[data-key="paths.legal.intensity"]', (el) => {
    el.value = el.max;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  });
  await page.waitForFunction(() => /set to/.test(document.querySelector("#message").textContent), null, { timeout: 20000 });

  await page.click("#play");
  await page.waitForFunction(() => /month (\d+)/.test(document.querySelector("#date").textContent) && Number(document.querySelector("#date").textContent.match(/month (\d+)/)[1]) >= 60, null, { timeout: 60000 });
  await page.click("#play"); // pause
  const m1 = await month();
  if (m1 < 60) fail(`the run did not advance (month ${m1})`);
  const after = await tiles();
  if (after === before) fail("the tiles did not change colour while the run advanced");
  // The charts drew lines: uPlot paths exist in the governance chart.
  const drawn = await page.$$eval(".chart canvas", (cs) => cs.length);
  if (drawn < 6) fail(`expected 6 charts, found ${drawn}`);
  const diff = await page.$eval("#diff-governance_index", (d) => d.textContent);
  const match = diff.match(/B − A ([+−])(\d+\.\d+)/);
  if (!match) fail(`no A/B difference shown on the governance chart ("${diff}")`);
  if (Number(match[2]) === 0) fail("the A/B difference is zero after a path was switched on in B");
  await page.screenshot({ path: join(out, "serve-ab.png") });

  // Hover a tile: the tooltip shows the village's figures.
  await page.hover("#tiles-b .tile >> nth=3");
  await page.waitForFunction(() => !document.querySelector("#tooltip").hidden, null, { timeout: 10000 });
  const tip = await page.$eval("#tooltip", (t) => t.textContent);
  if (!/residents/.test(tip) || !/turnout/.test(tip)) fail(`the tooltip lacks figures: ${tip}`);
  await page.screenshot({ path: join(out, "serve-tooltip.png") });

  // Download the scenario.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-scenario")]);
  const path = join(out, "serve-export.toml");
  await download.saveAs(path);
  const [data] = await Promise.all([page.waitForEvent("download"), page.click("#download-data")]);
  await data.saveAs(join(out, "serve-metrics.csv"));
  writeFileSync(join(out, "serve-month.txt"), String(m1));
  if (errors.length) fail("console errors:\n" + errors.join("\n"));
  console.log(`ok: month ${m1}, A/B difference ${diff}, export saved`);
} finally {
  await browser.close();
}
