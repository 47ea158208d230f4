// The seminar view of ruralgov: talks to `ruralgov serve` (docs/serve.md), draws the villages,
// the time series (uPlot, vendored) and the age pyramid, and sends the speaker's changes.
"use strict";

const CONTROLLERS = [
  ["branch", "party branch"],
  ["economic_elite", "economic elite"],
  ["clan", "clan"],
  ["bully", "bully"],
];
const CHARTS = [
  { key: "governance_index", title: "Governance index", digits: 3 },
  { key: "turnout", title: "Election turnout", digits: 3 },
  { key: "elite_capture", title: "Elite capture", digits: 3 },
  { key: "market_civic", title: "Market (solid) and civic (dotted)", digits: 3 },
  { key: "share_60_plus", title: "Residents aged 60+", digits: 3 },
  { key: "migrants", title: "Migrants", digits: 0 },
];
const css = getComputedStyle(document.documentElement);
const colour = (name) => css.getPropertyValue(name).trim();
const $ = (id) => document.getElementById(id);

let info = null;
let session = null; // { id, ab }
let events = null;
let data = []; // per copy: { x: [], s: { name: [] } }
let series = [];
let plots = [];
let playing = false;
let total = 0;

function message(text, error) {
  const m = $("message");
  m.textContent = text || "";
  m.className = error ? "error" : "";
}

async function api(path, options) {
  const r = await fetch(path, options);
  if (!r.ok) {
    let text = r.statusText;
    try {
      text = (await r.json()).error || text;
    } catch (_) {}
    throw new Error(text);
  }
  if (r.status === 204) return null;
  return (r.headers.get("content-type") || "").includes("json") ? r.json() : r.text();
}

const post = (path, body) =>
  api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

// Colour of a share in [0, 1] on a light-to-dark scale (`hue`: 215 blue, 25 orange).
const shade = (x, hue) => `hsl(${hue}, 60%, ${Math.round(92 - 62 * Math.max(0, Math.min(1, x)))}%)`;
const SCALES = {
  governance_index: { hue: 215, lo: 0.4, hi: 0.8 },
  trust_branch: { hue: 215, lo: 0.2, hi: 0.8 },
  elite_capture: { hue: 0, lo: 0, hi: 0.2 },
  share_60_plus: { hue: 25, lo: 0.1, hi: 0.5 },
};
let lastFrame = null;

function legend() {
  const by = $("colour-by").value;
  if (by === "controller") {
    $("legend").innerHTML =
      CONTROLLERS.map(([k, label]) => `<span style="--c: var(--${k})">${label}</span>`).join("") +
      `<span style="--c: #cbd5e0">white ring: contested at the last election</span>`;
  } else {
    const s = SCALES[by];
    $("legend").innerHTML = [0, 0.5, 1]
      .map((f) => `<span style="--c: ${shade(f, s.hue)}">${(s.lo + f * (s.hi - s.lo)).toFixed(2)}${f === 1 ? " or more" : ""}</span>`)
      .join("");
  }
}

function buildTiles(n, ab) {
  const wrap = $("tiles-wrap");
  wrap.innerHTML = "";
  const copies = ab ? [["A: as started", "a"], ["B: with your changes", "b"]] : [["Who controls each village's committee", "a"]];
  const cols = Math.ceil(Math.sqrt(n * (ab ? 0.7 : 1.6)));
  for (const [title, copy] of copies) {
    const block = document.createElement("div");
    block.className = "tiles-block";
    block.innerHTML = `<h2>${title}</h2>`;
    const grid = document.createElement("div");
    grid.className = "tiles";
    grid.id = "tiles-" + copy;
    grid.style.gridTemplateColumns = `repeat(${cols}, 1fr)`;
    for (let v = 0; v < n; v++) {
      const t = document.createElement("div");
      t.className = "tile";
      t.dataset.v = v;
      t.dataset.copy = copy;
      grid.appendChild(t);
    }
    block.appendChild(grid);
    wrap.appendChild(block);
  }
}

function paintTiles(copyIndex, frame) {
  const grid = $("tiles-" + (copyIndex === 0 ? "a" : "b"));
  if (!grid) return;
  const c = frame.copies[copyIndex];
  const tiles = grid.children;
  const by = $("colour-by").value;
  const s = SCALES[by];
  for (let v = 0; v < tiles.length && v < c.tiles.length; v++) {
    tiles[v].style.background = s ? shade((c.values[by][v] - s.lo) / (s.hi - s.lo), s.hue) : `var(--${c.tiles[v]})`;
    tiles[v].classList.toggle("contested", !s && c.contested[v] === 1);
  }
}

function buildCharts(ab) {
  const box = $("charts");
  box.innerHTML = "";
  plots = [];
  for (const ch of CHARTS) {
    const div = document.createElement("div");
    div.className = "chart";
    div.innerHTML = `<h3><span>${ch.title}</span><span class="diff" id="diff-${ch.key}"></span></h3><div class="plot"></div>`;
    box.appendChild(div);
    const el = div.querySelector(".plot");
    const lines = [];
    const names = ch.key === "market_civic" ? ["market_mean", "civic_mean"] : [ch.key];
    for (const [ci, copy] of (ab ? ["A", "B"] : ["A"]).entries()) {
      for (const [ni, name] of names.entries()) {
        lines.push({
          label: `${copy} ${name}`,
          stroke: ci === 0 ? colour(ab ? "--a" : "--branch") : colour("--b"),
          width: 2,
          dash: ni === 1 ? [4, 3] : undefined,
          copy: ci,
          name,
        });
      }
    }
    const opts = {
      width: 300,
      height: 150,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false } },
      axes: [
        { size: 26, font: "12px sans-serif", values: (u, vals) => vals.map((v) => Math.round(v)) },
        { size: 58, font: "12px sans-serif" },
      ],
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.stroke, width: l.width, dash: l.dash, points: { show: false } }))],
    };
    const plot = new uPlot(opts, [[], ...lines.map(() => [])], el);
    plots.push({ plot, lines, el, chart: ch });
  }
  resize();
}

function resize() {
  for (const p of plots) {
    const r = p.el.getBoundingClientRect();
    p.plot.setSize({ width: Math.max(120, Math.floor(r.width)), height: Math.max(80, Math.floor(r.height)) });
  }
}

function drawPyramid(frame) {
  const canvas = $("pyramid");
  const box = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.max(100, Math.floor(box.width * dpr));
  canvas.height = Math.max(60, Math.floor(box.height * dpr));
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const p = frame.copies[frame.copies.length - 1].pyramid;
  const W = canvas.width / dpr;
  const H = canvas.height / dpr;
  ctx.clearRect(0, 0, W, H);
  const n = p.groups.length;
  const rows = (H - 24) / n;
  const mid = W / 2;
  const most = Math.max(1, ...p.groups.map((_, i) => Math.max(p.female_residents[i] + p.female_migrants[i], p.male_residents[i] + p.male_migrants[i])));
  const scale = (mid - 40) / most;
  ctx.font = "11px sans-serif";
  ctx.textAlign = "center";
  for (let i = 0; i < n; i++) {
    const y = H - 18 - (i + 1) * rows;
    const bar = (side, res, mig) => {
      const wr = res * scale;
      const wm = mig * scale;
      ctx.fillStyle = colour("--branch");
      ctx.fillRect(side < 0 ? mid - 18 - wr : mid + 18, y, wr, rows - 1);
      ctx.fillStyle = colour("--b");
      ctx.fillRect(side < 0 ? mid - 18 - wr - wm : mid + 18 + wr, y, wm, rows - 1);
    };
    bar(-1, p.male_residents[i], p.male_migrants[i]);
    bar(1, p.female_residents[i], p.female_migrants[i]);
    if (i % 2 === 0) {
      ctx.fillStyle = colour("--muted");
      ctx.fillText(p.groups[i].split("-")[0].replace("+", ""), mid, y + rows - 1);
    }
  }
  ctx.fillStyle = colour("--ink");
  ctx.textAlign = "left";
  ctx.fillText("men", 4, H - 4);
  ctx.textAlign = "right";
  ctx.fillText("women", W - 4, H - 4);
  ctx.textAlign = "center";
  ctx.fillText("residents (blue) and migrants (orange) by age", mid, H - 4);
}

function applyFrame(frame) {
  if (frame.kind === "snapshot") {
    data = frame.copies.map(() => ({ x: [], s: Object.fromEntries(frame.series.map((k) => [k, []])) }));
  } else if (data.length === 0 || data[0].x.length !== frame.from) {
    // A gap (a lost frame): fetch the whole state again.
    api(`/api/sessions/${session.id}/state`).then(applyFrame, (e) => message(e.message, true));
    return;
  }
  frame.copies.forEach((c, ci) => {
    for (const row of c.rows) {
      data[ci].x.push(row[0]);
      frame.series.forEach((k, j) => data[ci].s[k].push(row[j + 1]));
    }
    paintTiles(ci, frame);
  });
  for (const p of plots) {
    const cols = [data[0].x, ...p.lines.map((l) => data[l.copy].s[l.name])];
    p.plot.setData(cols);
    const el = $("diff-" + p.chart.key);
    const name = p.chart.key === "market_civic" ? "market_mean" : p.chart.key;
    const a = data[0].s[name];
    if (!a.length) {
      el.textContent = "";
      continue;
    }
    const last = a[a.length - 1];
    if (data.length > 1) {
      const d = data[1].s[name][a.length - 1] - last;
      el.textContent = `B − A ${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(p.chart.digits)}`;
      el.className = "diff " + (Math.abs(d) < 1e-12 ? "" : (d > 0) === (name !== "elite_capture" && name !== "share_60_plus" && name !== "migrants") ? "up" : "down");
    } else {
      el.textContent = last.toFixed(p.chart.digits);
      el.className = "diff";
    }
  }
  drawPyramid(frame);
  lastFrame = frame;
  playing = frame.playing;
  total = frame.total;
  $("play").textContent = playing ? "Pause" : "Play";
  $("date").textContent = `${frame.date} · month ${frame.month}/${frame.total}`;
  if (frame.levers) {
    for (const [k, v] of Object.entries(frame.levers)) {
      const input = document.querySelector(`input[data-key="${k}"]`);
      if (input && !input.dataset.dragging) {
        input.value = v;
        input.parentElement.querySelector("output").textContent = fmt(v, input.step);
      }
    }
  }
  $("download-scenario").href = `/api/sessions/${session.id}/scenario.toml`;
  $("download-data").href = `/api/sessions/${session.id}/metrics.csv?copy=${data.length > 1 ? "b" : "a"}`;
}

const fmt = (v, step) => (Number(step) >= 1 ? Math.round(v).toString() : Number(v).toFixed(2));

function buildSliders() {
  const box = $("sliders");
  box.innerHTML = "";
  for (const s of info.sliders) {
    const div = document.createElement("label");
    div.className = "slider";
    div.innerHTML = `<span>${s.label}</span><output>-</output><input type="range" min="${s.min}" max="${s.max}" step="${s.step}" data-key="${s.key}">`;
    const input = div.querySelector("input");
    const out = div.querySelector("output");
    input.addEventListener("input", () => {
      input.dataset.dragging = "1";
      out.textContent = fmt(input.value, s.step);
    });
    input.addEventListener("change", async () => {
      delete input.dataset.dragging;
      try {
        await post(`/api/sessions/${session.id}/lever`, { key: s.key, value: Number(input.value) });
        message(`${s.label} set to ${fmt(input.value, s.step)} from month ${($("date").textContent.match(/month (\d+)/) || [0, 0])[1] * 1 + 1}${session.ab ? " in B" : ""}`);
      } catch (e) {
        message(e.message, true);
      }
    });
    box.appendChild(div);
  }
}

async function start() {
  if (events) events.close();
  if (session) {
    api(`/api/sessions/${session.id}`, { method: "DELETE" }).catch(() => {});
  }
  message("Building the region (burn-in)…");
  const ab = $("ab").checked;
  const body = { scenario: $("scenario").value, ab, arrangement: $("arrangement").value };
  const seed = $("seed").value.trim();
  if (seed !== "") body.seed = Number(seed);
  try {
    const r = await post("/api/sessions", body);
    session = { id: r.id, ab };
    const n = r.state.copies[0].tiles.length;
    buildTiles(n, ab);
    buildCharts(ab);
    applyFrame(r.state);
    events = new EventSource(`/api/sessions/${session.id}/events`);
    events.onmessage = (e) => applyFrame(JSON.parse(e.data));
    events.addEventListener("lagged", () => api(`/api/sessions/${session.id}/state`).then(applyFrame));
    message(`${r.state.copies[0].tiles.length} villages ready${ab ? ": A keeps the start, your changes go to B (same seed)" : ""}. Press Play.`);
  } catch (e) {
    message(e.message, true);
  }
}

function control(action, extra) {
  if (!session) return Promise.resolve();
  return post(`/api/sessions/${session.id}/control`, Object.assign({ action }, extra || {})).catch((e) => message(e.message, true));
}

let tipTimer = null;
function tooltip(e) {
  const t = e.target;
  const tip = $("tooltip");
  if (!t.classList || !t.classList.contains("tile")) {
    tip.hidden = true;
    return;
  }
  clearTimeout(tipTimer);
  const x = e.clientX;
  const y = e.clientY;
  tipTimer = setTimeout(async () => {
    try {
      const v = await api(`/api/sessions/${session.id}/villages/${t.dataset.v}?copy=${t.dataset.copy}`);
      const rows = [
        ["residents", v.residents],
        ["aged 60+", (100 * v.share_60_plus).toFixed(0) + "%"],
        ["branch capacity", v.branch_capacity.toFixed(2)],
        ["trust in branch", v.trust_branch.toFixed(2)],
        ["turnout", v.turnout.toFixed(2)],
        ["elite capture", v.elite_capture.toFixed(3)],
        ["controller", v.controller.replace("_", " ")],
      ];
      tip.innerHTML = `<b>village ${v.village}</b> (${t.dataset.copy.toUpperCase()})<table>${rows.map(([k, val]) => `<tr><td>${k}</td><td>${val}</td></tr>`).join("")}</table>`;
      tip.style.left = Math.min(x + 12, window.innerWidth - 220) + "px";
      tip.style.top = Math.min(y + 12, window.innerHeight - 170) + "px";
      tip.hidden = false;
    } catch (_) {
      tip.hidden = true;
    }
  }, 60);
}

async function main() {
  info = await api("/api/info");
  $("scenario").innerHTML = info.scenarios.map((s) => `<option ${s === info.default ? "selected" : ""}>${s}</option>`).join("");
  legend();
  buildSliders();
  $("play").onclick = () => control(playing ? "pause" : "play");
  $("step").onclick = () => control("step", { months: 1 });
  $("year").onclick = () => control("year");
  $("reset").onclick = () => control("reset");
  $("speed").onchange = () => control("speed", { speed: Number($("speed").value) });
  $("restart").onclick = start;
  $("colour-by").onchange = () => {
    legend();
    if (lastFrame) lastFrame.copies.forEach((_, ci) => paintTiles(ci, lastFrame));
  };
  document.addEventListener("mousemove", tooltip);
  window.addEventListener("resize", resize);
  window.addEventListener("pagehide", () => {
    if (session) navigator.sendBeacon && fetch(`/api/sessions/${session.id}`, { method: "DELETE", keepalive: true }).catch(() => {});
  });
  await start();
}

main().catch((e) => message(e.message, true));
