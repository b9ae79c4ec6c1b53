#include "admin/status_page.h"

namespace sy::admin {
namespace {

// The script builds every table with DOM calls and textContent only (names come from the
// config and backends, never parsed as HTML). Rows carry data-* attributes naming what they
// show (data-pool, data-server, data-group, data-node, data-health) for tests and scrapers.
constexpr std::string_view kPage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>switchyard status</title>
<link rel="icon" href="data:,">
<style>
:root { --bg: #f6f7f9; --fg: #1d232b; --dim: #667085; --line: #d9dee5; --ok: #16794c;
        --bad: #b42318; --warn: #a15c07; --card: #fff; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap;
         padding: 10px 18px; background: var(--fg); color: #fff; }
header h1 { font-size: 17px; margin: 0; }
#summary { color: #cfd6df; }
#state { margin-left: auto; }
#state.live::before { content: "\25CF  "; color: #3ccf8e; }
#state.stale::before { content: "\25CF  "; color: #f97066; }
main { padding: 6px 18px 18px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
          margin-top: 12px; padding: 8px 12px 10px; }
h2 { font-size: 14px; margin: 2px 0 6px; }
h3 { font-size: 13px; margin: 10px 0 4px; }
h3 .facts { font-weight: normal; color: var(--dim); margin-left: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: right; padding: 3px 8px; border-bottom: 1px solid var(--line);
         white-space: nowrap; font-variant-numeric: tabular-nums; }
th { color: var(--dim); font-weight: 600; }
td.text, th.text { text-align: left; }
tr:last-child td { border-bottom: none; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); font-weight: 600; }
.none { color: var(--dim); }
footer { color: var(--dim); padding: 0 18px 18px; }
</style>
</head>
<body>
<header><h1>switchyard</h1><span id="summary"></span>
<span id="state" class="stale">connecting</span></header>
<main>
<section><h2>Pools</h2><table id="pools"></table></section>
<section><h2>Replication groups and nodes</h2><div id="groups"></div></section>
<section><h2>Failovers followed</h2><table id="failovers"></table></section>
<section><h2>Servers</h2><div id="servers"></div></section>
<section><h2>Commands</h2><div id="commands"></div></section>
<section><h2>Cluster pools</h2><table id="clusters"></table></section>
</main>
<footer>Rates and latencies are over the last second, from successive samples of
<a href="status.json">status.json</a>; totals since start-up are in
<a href="metrics">metrics</a> and <a href="stats">stats</a>.</footer>
<script>
"use strict";
const POLL_MS = 1000;
let previous = null;       // {doc, at}: the last sample, for rates
const failovers = [];      // followed failovers seen by this page, newest first
const groupState = new Map();  // "pool/group" -> {failovers, master}

function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children || []) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
// A cell: a string, or {text, cls, title}; `text` aligns it left.
function cell(value, text) {
  const object = value !== null && typeof value === "object";
  const classes = [object && value.cls, text && "text"].filter(Boolean).join(" ");
  const attrs = classes ? {class: classes} : {};
  if (object && value.title) attrs.title = value.title;
  return el("td", attrs, [object ? value.text : value]);
}
// Replaces `table`'s content: headers, then rows of {attrs, cells}; `empty` when no row. The
// first `lead` columns hold text (aligned left), the others numbers (aligned right).
function fillTable(table, headers, rows, empty, lead) {
  const head = el("tr", {}, headers.map((h, i) => el("th", i < lead ? {class: "text"} : {},
                                                      [h])));
  const body = rows.length
      ? rows.map(r => el("tr", r.attrs || {}, r.cells.map((c, i) => cell(c, i < lead))))
      : [el("tr", {}, [el("td", {class: "none text", colspan: headers.length}, [empty])])];
  table.replaceChildren(el("thead", {}, [head]), el("tbody", {}, body));
}

const dash = {text: "\u2013", cls: "none"};
function num(x) { return x === null || x === undefined ? dash : String(x); }
function perSecond(x) {
  if (x === null) return dash;
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
function duration(usec) {
  if (usec === null || usec === undefined || Number.isNaN(usec)) return dash;
  if (usec === Infinity) return "> 2.1 s";
  if (usec < 1000) return usec.toFixed(0) + " \u00b5s";
  if (usec < 1e6) return (usec / 1000).toFixed(usec < 1e4 ? 2 : 1) + " ms";
  return (usec / 1e6).toFixed(2) + " s";
}
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
  return n.toFixed(i ? 1 : 0) + " " + units[i];
}
function uptime(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
  const m = Math.floor(s % 3600 / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

// Counter increase per second between the previous sample and this one; null on the first.
function rateOf(now, before, dt) {
  if (before === undefined || before === null || dt <= 0) return null;
  return Math.max(0, now - before) / dt;
}
// Interval latency of a histogram {count, sum_usec, buckets}: mean and p99 (bucket bound).
function interval(now, before) {
  if (!before) return {count: 0, mean: null, p99: null};
  const count = now.count - before.count;
  if (count <= 0) return {count: 0, mean: null, p99: null};
  const deltas = now.buckets.map((n, b) => n - before.buckets[b]);
  const rank = Math.max(1, Math.round(0.99 * count));
  let seen = 0, p99 = Infinity;
  for (let b = 0; b < deltas.length - 1; ++b) {
    seen += deltas[b];
    if (seen >= rank) { p99 = Math.pow(2, b); break; }
  }
  return {count, mean: (now.sum_usec - before.sum_usec) / count, p99};
}
function byKey(list, key) {
  const map = new Map();
  for (const item of list || []) map.set(key(item), item);
  return map;
}

function renderSummary(doc, prev, dt) {
  const cpu = doc.usage.cpu_user_seconds + doc.usage.cpu_system_seconds;
  const cpuBefore = prev ? prev.usage.cpu_user_seconds + prev.usage.cpu_system_seconds : null;
  const cpuShare = prev && dt > 0 ? ` \u00b7 CPU ${(100 * (cpu - cpuBefore) / dt).toFixed(0)}%`
                                  : "";
  const accepts = prev ? rateOf(doc.connections.total, prev.connections.total, dt) : null;
  document.getElementById("summary").textContent =
      `${doc.version} \u00b7 pid ${doc.pid} \u00b7 up ${uptime(doc.uptime_seconds)} \u00b7 ` +
      `${doc.threads} workers \u00b7 ${doc.connections.current} clients` +
      (accepts === null ? "" : ` (${perSecond(accepts)} new/s)`) +
      ` \u00b7 ${doc.connections.rejected} rejected${cpuShare} \u00b7 ` +
      `RSS ${bytes(doc.usage.resident_bytes)} \u00b7 ` +
      `fds ${doc.usage.open_fds}/${doc.usage.max_fds}`;
}

function commandErrors(pool) {
  let n = 0;
  for (const c of pool.commands) n += c.failed_calls + c.rejected_calls;
  return n;
}

function renderPools(doc, prev, dt) {
  const before = byKey(prev && prev.pools, p => p.name);
  fillTable(document.getElementById("pools"),
      ["Pool", "Listen", "Clients", "Requests/s", "Errors/s", "Forward errors/s", "Mean", "p99",
       "Ejections", "Over limits"],
      doc.pools.map(pool => {
        const old = before.get(pool.name);
        const lat = interval(pool.latency, old && old.latency);
        const errors = rateOf(commandErrors(pool), old && commandErrors(old), dt);
        return {attrs: {"data-pool": pool.name}, cells: [
          pool.name, pool.listen, num(pool.stats.client_connections),
          perSecond(rateOf(pool.latency.count, old && old.latency.count, dt)),
          errors ? {text: perSecond(errors), cls: "bad"} : perSecond(errors),
          perSecond(rateOf(pool.stats.forward_error, old && old.stats.forward_error, dt)),
          duration(lat.mean), duration(lat.p99), num(pool.stats.server_ejects),
          num(pool.requests_over_limit)]};
      }), "No pools.", 2);
}

// One table per pool in the element `id`: fill(table, pool, old) fills it, `old` being the
// pool's previous sample (undefined on the first).
function tablePerPool(id, doc, prev, fill) {
  const before = byKey(prev && prev.pools, p => p.name);
  document.getElementById(id).replaceChildren(...doc.pools.map(pool => {
    const table = el("table", {"data-pool": pool.name});
    fill(table, pool, before.get(pool.name));
    return el("div", {}, [el("h3", {}, [pool.name]), table]);
  }));
}

function renderServers(doc, prev, dt) {
  tablePerPool("servers", doc, prev, (table, pool, oldPool) => {
    const oldServers = byKey(oldPool && oldPool.servers, s => s.name);
    fillTable(table, ["Server", "Address", "Status", "Connections", "Requests/s", "Errors/s",
                      "Timeouts/s", "Mean", "p99", "In queue", "Awaiting reply"],
        pool.servers.map(server => {
          const old = oldServers.get(server.name);
          const s = server.stats, o = old && old.stats;
          const failures = x => x.server_err + x.server_eof + x.server_timedout;
          const errors = rateOf(failures(s), o && failures(o), dt);
          const lat = interval(server.latency, old && old.latency);
          const status = errors ? {text: "failing", cls: "bad"}
                       : s.server_connections > 0 ? {text: "connected", cls: "ok"}
                       : {text: "no connection", cls: "none"};
          return {attrs: {"data-server": server.name, "data-status": status.text}, cells: [
            server.name, server.address, status,
            num(s.server_connections), perSecond(rateOf(s.requests, o && o.requests, dt)),
            perSecond(errors), perSecond(rateOf(s.server_timedout, o && o.server_timedout, dt)),
            duration(lat.mean), duration(lat.p99), num(s.in_queue), num(s.out_queue)]};
        }), "No servers.", 3);
  });
}

function renderCommands(doc, prev, dt) {
  tablePerPool("commands", doc, prev, (table, pool, oldPool) => {
    const oldCommands = byKey(oldPool && oldPool.commands, c => c.name);
    fillTable(table, ["Command", "Calls/s", "Failed/s", "Rejected/s", "Mean", "Calls",
                      "Failed", "Rejected", "Mean since start"],
        pool.commands.map(c => {
          const old = oldCommands.get(c.name);
          const calls = old ? c.calls - old.calls : 0;
          const mean = calls > 0 ? (c.usec - old.usec) / calls : null;
          return {attrs: {"data-command": c.name}, cells: [
            c.name, perSecond(rateOf(c.calls, old && old.calls, dt)),
            perSecond(rateOf(c.failed_calls, old && old.failed_calls, dt)),
            perSecond(rateOf(c.rejected_calls, old && old.rejected_calls, dt)), duration(mean),
            String(c.calls), String(c.failed_calls), String(c.rejected_calls),
            duration(c.calls ? c.usec / c.calls : null)]};
        }), "No command yet.", 1);
  });
}

function healthClass(health) {
  return health === "healthy" ? "ok" : health === "lagging" ? "warn" : "bad";
}

// Notes the failovers followed since the previous sample (a higher count or a new master).
function noteFailovers(doc) {
  const at = new Date().toLocaleTimeString();
  for (const g of doc.groups) {
    const key = g.pool + "/" + g.name;
    const seen = groupState.get(key);
    if (seen && g.failovers > seen.failovers) {
      failovers.unshift({at, key, from: seen.master, to: g.master, count: g.failovers,
                         follow: g.last_failover_follow_ms});
    } else if (!seen && g.failovers > 0) {
      failovers.unshift({at: "before this page opened", key, from: null, to: g.master,
                         count: g.failovers, follow: g.last_failover_follow_ms});
    }
    groupState.set(key, {failovers: g.failovers, master: g.master});
  }
  failovers.splice(50);
}

function renderFailovers() {
  fillTable(document.getElementById("failovers"),
      ["Seen at", "Group", "From", "To", "Followed in", "Failovers so far"],
      failovers.map(f => ({attrs: {"data-group": f.key}, cells: [
        f.at, f.key, f.from || "\u2013", f.to,
        f.follow === null ? dash : duration(f.follow * 1000), String(f.count)]})),
      "No failover followed since start-up.", 4);
}

function renderGroups(doc, prev, dt) {
  const box = document.getElementById("groups");
  const before = byKey(prev && prev.groups, g => g.pool + "/" + g.name);
  if (!doc.groups.length) {
    box.replaceChildren(el("p", {class: "none"}, ["No replication groups in this config."]));
    return;
  }
  box.replaceChildren(...doc.groups.map(g => {
    const old = before.get(g.pool + "/" + g.name);
    const oldNodes = byKey(old && old.nodes, n => n.address);
    const deltas = g.nodes.map(n => {
      const o = oldNodes.get(n.address);
      return o ? Math.max(0, n.requests - o.requests) : 0;
    });
    const total = deltas.reduce((a, b) => a + b, 0);
    const facts = [
      `pool ${g.pool}`, `master ${g.master}` + (g.master_confirmed ? "" : " (unconfirmed)"),
      `writes ${g.writes}`, `read_from ${g.read_from}`,
      `replicas ${g.healthy_replicas}/${g.replicas} healthy`,
      g.sentinels ? `Sentinels ${g.reachable_sentinels}/${g.sentinels} reachable`
                  : "role-probed",
      `failovers ${g.failovers}` + (g.last_failover_follow_ms === null ? ""
          : ` (last followed in ${g.last_failover_follow_ms} ms)`)];
    if (g.slots !== null) facts.push(`${g.slots} slots`);
    const title = el("h3", {"data-group": g.pool + "/" + g.name}, [
      g.name, el("span", {class: g.writes === "open" ? "facts" : "facts bad"},
                 [facts.join(" \u00b7 ")])]);
    const table = el("table", {"data-group": g.pool + "/" + g.name});
    fillTable(table, ["Node", "Role", "Health", "Lag", "Round trip", "Serves reads", "Share",
                      "Requests/s", "Mean", "p99"],
        g.nodes.map((n, i) => {
          const o = oldNodes.get(n.address);
          const lat = interval(n.latency, o && o.latency);
          return {attrs: {"data-node": n.address, "data-role": n.role, "data-health": n.health},
                  cells: [
            n.address, n.role, {text: n.health, cls: healthClass(n.health)},
            n.lag_seconds === null ? dash : n.lag_seconds + " s",
            n.rtt_usec === null ? dash : duration(n.rtt_usec), n.serves_reads ? "yes" : "no",
            total > 0 ? {text: (100 * deltas[i] / total).toFixed(0) + "%",
                         title: "of the group's requests in the last second (replicas: reads)"}
                      : dash,
            perSecond(rateOf(n.requests, o && o.requests, dt)), duration(lat.mean),
            duration(lat.p99)]};
        }), "No node known yet.", 3);
    return el("div", {}, [title, table]);
  }));
}

function renderClusters(doc, prev, dt) {
  const before = byKey(prev && prev.clusters, c => c.pool);
  fillTable(document.getElementById("clusters"),
      ["Pool", "Shards", "Slots served", "Nodes", "View", "Refreshes", "Last refresh",
       "MOVED/s", "ASK/s", "Retries/s"],
      doc.clusters.map(c => {
        const o = before.get(c.pool);
        return {attrs: {"data-pool": c.pool}, cells: [
          c.pool, String(c.shards),
          {text: String(c.slots_served), cls: c.slots_served === 16384 ? "ok" : "bad"},
          String(c.nodes), String(c.generation), String(c.refreshes),
          duration(c.last_refresh_usec), perSecond(rateOf(c.moved, o && o.moved, dt)),
          perSecond(rateOf(c.ask, o && o.ask, dt)),
          perSecond(rateOf(c.retries, o && o.retries, dt))]};
      }), "No cluster pool in this config.", 1);
}

function render(doc, at) {
  const prev = previous ? previous.doc : null;
  const dt = previous ? (at - previous.at) / 1000 : 0;
  noteFailovers(doc);
  renderSummary(doc, prev, dt);
  renderPools(doc, prev, dt);
  renderGroups(doc, prev, dt);
  renderFailovers();
  renderServers(doc, prev, dt);
  renderCommands(doc, prev, dt);
  renderClusters(doc, prev, dt);
  previous = {doc, at};
}

function setState(live, text) {
  const state = document.getElementById("state");
  state.className = live ? "live" : "stale";
  state.textContent = text;
}

async function poll() {
  try {
    const response = await fetch("status.json", {cache: "no-store"});
    if (!response.ok) throw new Error("HTTP " + response.status);
    const doc = await response.json();
    render(doc, performance.now());
    setState(true, "live \u00b7 " + new Date().toLocaleTimeString());
  } catch (error) {
    setState(false, "no answer from the proxy (" + error.message + "); retrying");
  }
  setTimeout(poll, POLL_MS);
}
poll();
</script>
</body>
</html>
)HTML";

}  // namespace

std::string_view statusPageHtml() { return kPage; }

}  // namespace sy::admin
