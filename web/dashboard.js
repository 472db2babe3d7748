// The Sluice job dashboard: polls /api/job once a second and draws the job graph (SVG) with live
// throughput and backpressure per operator, charts of throughput, latency percentiles and
// watermark lag over the last minutes (uPlot), checkpoint history and recent errors.
"use strict";

const POLL_MS = 1000;
const SVG = "http://www.w3.org/2000/svg";
const BOX_W = 170, BOX_H = 64, GAP_X = 60, GAP_Y = 22;

function rate(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(2) + "M/s";
  if (v >= 1e3) return (v / 1e3).toFixed(1) + "k/s";
  return v.toFixed(0) + "/s";
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// Columns by longest path from a source; rows in graph order within a column.
function layout(job) {
  const column = job.operators.map(() => 0);
  for (const e of job.edges) column[e.to] = Math.max(column[e.to], column[e.from] + 1);
  const rows = {};
  return job.operators.map((op, i) => {
    const c = column[i];
    rows[c] = (rows[c] || 0) + 1;
    return { x: 10 + c * (BOX_W + GAP_X), y: 10 + (rows[c] - 1) * (BOX_H + GAP_Y) };
  });
}

function drawGraph(job) {
  const svg = document.getElementById("graph");
  svg.replaceChildren();
  const defs = el("defs", {}, svg);
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
    markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
  el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#64748b" }, marker);
  const pos = layout(job);
  let width = 0, height = 0;
  for (const e of job.edges) {
    const a = pos[e.from], b = pos[e.to];
    const path = `M ${a.x + BOX_W} ${a.y + BOX_H / 2} C ${a.x + BOX_W + GAP_X / 2} ${a.y + BOX_H / 2},` +
      ` ${b.x - GAP_X / 2} ${b.y + BOX_H / 2}, ${b.x} ${b.y + BOX_H / 2}`;
    el("path", { d: path, class: "edge" + (e.chained ? " chained" : "") }, svg)
      .appendChild(document.createElementNS(SVG, "title")).textContent = e.partitioning;
  }
  job.operators.forEach((op, i) => {
    const p = pos[i];
    width = Math.max(width, p.x + BOX_W + 10);
    height = Math.max(height, p.y + BOX_H + 10);
    const g = el("g", { class: "node", "data-operator": op.name, transform: `translate(${p.x},${p.y})` }, svg);
    el("rect", { width: BOX_W, height: BOX_H, rx: 6 }, g);
    // Backpressured share (red) and busy share (blue) as bars along the bottom.
    el("rect", { class: "busy", y: BOX_H - 6, width: BOX_W * op.busy, height: 6 }, g);
    el("rect", { class: "backpressured", x: BOX_W * op.busy, y: BOX_H - 6,
      width: BOX_W * op.backpressured, height: 6 }, g);
    el("text", { x: 8, y: 17 }, g).textContent = `${op.name} ×${op.parallelism}`;
    const shown = op.source ? op.records_out_per_s : op.records_in_per_s;
    el("text", { x: 8, y: 35, class: "rate" }, g).textContent = rate(shown);
    el("text", { x: 8, y: 51 }, g).textContent =
      `bp ${(op.backpressured * 100).toFixed(0)}%  busy ${(op.busy * 100).toFixed(0)}%`;
  });
  svg.setAttribute("viewBox", `0 0 ${Math.max(width, 400)} ${Math.max(height, 100)}`);
  svg.style.height = Math.max(height, 100) + "px";
}

const charts = {};
window.sluiceCharts = charts;  // for the browser test
function chart(id, series, data) {
  const host = document.getElementById(id);
  if (!charts[id]) {
    charts[id] = new uPlot({
      width: Math.max(host.clientWidth, 360), height: 200,
      series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2, spanGaps: true }))],
      axes: [{}, { size: 70 }],
    }, data, host);
  } else {
    charts[id].setData(data);
  }
}

function drawCharts(job) {
  const h = job.history;
  const t = h.map(p => p.t / 1000);
  chart("chart-throughput", [["in", "#3b82f6"], ["out", "#16a34a"]],
    [t, h.map(p => p.in_per_s), h.map(p => p.out_per_s)]);
  chart("chart-latency", [["p50", "#3b82f6"], ["p99", "#dc2626"]],
    [t, h.map(p => p.p50_ms), h.map(p => p.p99_ms)]);
  chart("chart-watermark", [["lag", "#9333ea"]],
    [t, h.map(p => p.watermark_lag_ms === null ? null : p.watermark_lag_ms / 1000)]);
}

function drawTables(job) {
  const body = document.querySelector("#checkpoints tbody");
  body.replaceChildren(...job.checkpoints.history.slice(-20).reverse().map(c => {
    const tr = document.createElement("tr");
    for (const v of [c.id, c.status, c.duration_ms.toFixed(1) + " ms", c.alignment_ms.toFixed(1) + " ms",
                     c.bytes + " B"]) {
      tr.appendChild(document.createElement("td")).textContent = v;
    }
    return tr;
  }));
  document.getElementById("errors").replaceChildren(...job.exceptions.slice(-20).reverse().map(e => {
    const li = document.createElement("li");
    li.textContent = `${new Date(e.time_ms).toLocaleTimeString()} [${e.kind}] ${e.message}`;
    return li;
  }));
}

async function refresh() {
  try {
    const job = await (await fetch("/api/job", { cache: "no-store" })).json();
    document.getElementById("job-name").textContent = job.job;
    const state = document.getElementById("job-state");
    state.textContent = job.state;
    state.className = "state " + job.state;
    const p99 = job.latency_ms.p99;
    document.getElementById("summary").textContent =
      `in ${rate(job.throughput.in_per_s)} · out ${rate(job.throughput.out_per_s)} · ` +
      `p99 ${p99 === null ? "-" : p99.toFixed(1) + " ms"} · ${job.throughput.records_in} records`;
    drawGraph(job);
    drawCharts(job);
    drawTables(job);
    document.body.dataset.updated = String(job.now_ms);
  } catch (err) {
    document.getElementById("job-state").textContent = "unreachable";
  }
}

refresh();
setInterval(refresh, POLL_MS);
