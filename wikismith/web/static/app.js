// The wikismith UI: a hash router over the REST API (/api/v1). No framework, no build step, nothing fetched from
// elsewhere. Text from the KB is always put in with textContent; the only HTML inserted is what the server rendered
// from Markdown with raw HTML escaped.
"use strict";

const API = "/api/v1";
const $ = (sel) => document.querySelector(sel);
const view = () => ({ replaceChildren: (...nodes) => $("#view").replaceChildren(...nodes.filter((n) => n !== null && n !== undefined)),
  prepend: (node) => $("#view").prepend(node) });
const side = () => $("#side");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "onclick") node.addEventListener("click", value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function pageHref(target) { return "#/page/" + target.split("/").map(encodeURIComponent).join("/"); }
function targetOf(path) { return path.replace(/^wiki\//, "").replace(/\.md$/, ""); }
function plainTitle(text) { return text.replace(/\[\[([^\]|]+)\|([^\]]+)\]\]/g, "$2").replace(/\[\[([^\]]+)\]\]/g, "$1"); }

async function api(path, options = {}) {
  const response = await fetch(API + path, options);
  const body = await response.json().catch(() => ({ code: "bad_response", message: response.statusText }));
  if (!response.ok && !(body && body.files)) throw Object.assign(new Error(body.message || response.statusText), body);
  return body;
}

function flash(message, ok = false) {
  const box = $("#flash");
  box.textContent = message;
  box.className = ok ? "flash ok" : "flash";
  box.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { box.hidden = true; }, ok ? 4000 : 9000);
}

function confirmDialog(title, body, okLabel) {
  return new Promise((resolve) => {
    $("#dialog-title").textContent = title;
    $("#dialog-body").replaceChildren(body);
    $("#dialog-ok").textContent = okLabel;
    $("#dialog").hidden = false;
    const done = (answer) => { $("#dialog").hidden = true; resolve(answer); };
    $("#dialog-ok").onclick = () => done(true);
    $("#dialog-cancel").onclick = () => done(false);
  });
}

// Server-sent events read from a fetch body (works for GET and for POST uploads alike).
function parseEvents(buffer, onEvent) {
  let cut;
  while ((cut = buffer.indexOf("\n\n")) >= 0) {
    const chunk = buffer.slice(0, cut);
    buffer = buffer.slice(cut + 2);
    let event = "message", data = "";
    for (const line of chunk.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data += line.slice(6);
    }
    onEvent(event, data ? JSON.parse(data) : null);
  }
  return buffer;
}

async function streamEvents(path, onEvent) {
  const response = await fetch(API + path, { headers: { Accept: "text/event-stream" } });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw Object.assign(new Error(body.message || response.statusText), body);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer = parseEvents(buffer + decoder.decode(value, { stream: true }), onEvent);
  }
}

// -- views ----------------------------------------------------------------------------------------------------------

async function showHome() {
  const status = await api("/status");
  const kinds = Object.entries(status.pages).map(([k, n]) => `${n} ${k}`).join(", ");
  const intro = el("p", { class: "meta" }, `${status.documents} documents, ${status.pages_total} pages (${kinds}). `,
    status.dirty ? `Needs wikismith doctor: ${status.dirty_reason}` : "");
  await showPage("index", intro);
}

async function showPage(target, intro = null) {
  const page = await api("/pages/" + target.split("/").map(encodeURIComponent).join("/"));
  const article = el("article", { class: "page" });
  article.innerHTML = page.html;  // rendered on the server, raw HTML escaped
  const meta = el("p", { class: "meta" }, `${page.kind} · ${page.path}`,
    page.updated_at ? ` · updated ${page.updated_at}` : "", " · ",
    el("a", { href: "#/graph/" + page.target, text: "graph around it" }));
  view().replaceChildren(...(intro ? [intro] : []), meta, article);
  const headingsInPage = article.querySelectorAll("h1, h2, h3, h4, h5, h6");
  const outline = el("ul", { class: "outline" }, page.outline.map((h, i) => el("li", { class: "lvl" + h.level },
    el("a", { href: pageHref(page.target), onclick: (e) => { e.preventDefault(); if (headingsInPage[i]) headingsInPage[i].scrollIntoView(); } },
      plainTitle(h.title)))));
  const backlinks = el("ul", { class: "backlinks" }, page.backlinks.length ? page.backlinks.map((b) =>
    el("li", {}, el("a", { href: pageHref(b.target), text: b.title }))) : el("li", { class: "meta", text: "none" }));
  side().replaceChildren(el("h3", { text: "Outline" }), outline, el("h3", { text: `Backlinks (${page.backlinks.length})` }),
    backlinks, ...(page.sources.length ? [el("h3", { text: "Sources" }),
      el("ul", {}, page.sources.map((s) => el("li", {}, el("a", { href: pageHref("summaries/" + s), text: s }))))] : []));
  document.title = `${page.title} · wikismith`;
}

async function showSearch(q) {
  const found = await api(`/search?limit=30&q=${encodeURIComponent(q)}`);
  view().replaceChildren(el("h1", { text: `Search: ${q}` }), found.hits.length ? el("ol", { class: "results" },
    found.hits.map((h) => el("li", {}, el("a", { href: pageHref(targetOf(h.page)), text: h.title }), " ",
      el("span", { class: "kind", text: h.kind }), el("div", { class: "snippet", text: h.snippet.replaceAll("**", "") }))))
    : el("p", { text: "Nothing matched." }));
  side().replaceChildren();
}

function showAsk(initial = "") {
  const input = el("input", { id: "question", type: "text", placeholder: "Ask a question about the wiki…", value: initial });
  const button = el("button", { class: "primary", id: "ask-button", text: "Ask" });
  const answer = el("div", { id: "answer", class: "answer" });
  const passages = el("ul", { class: "passages" });
  const sources = el("ul", { class: "sources", id: "sources" });
  const run = async () => {
    const q = input.value.trim();
    if (!q) return;
    button.disabled = true;
    answer.textContent = "";
    answer.className = "answer streaming";
    passages.replaceChildren();
    sources.replaceChildren();
    try {
      await streamEvents(`/query?q=${encodeURIComponent(q)}`, (event, data) => {
        if (event === "passages") passages.replaceChildren(...data.map((h) => el("li", {},
          el("a", { href: pageHref(targetOf(h.page)), text: h.title }), el("span", { class: "snippet", text: " " + h.snippet.replaceAll("**", "") }))));
        else if (event === "tokens") answer.append(data.text);
        else if (event === "sources") sources.replaceChildren(...data.map((s) => el("li", {},
          el("a", { href: pageHref(targetOf(s.page)), text: s.title }), s.heading && s.heading !== s.title ? ` — ${s.heading}` : "")));
        else if (event === "done") { answer.className = "answer"; answer.innerHTML = data.html; }
        else if (event === "error") flash(data.message);
      });
    } catch (err) { flash(err.message); }
    button.disabled = false;
  };
  button.addEventListener("click", run);
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") run(); });
  view().replaceChildren(el("h1", { text: "Ask" }), el("div", { class: "ask" }, input, button), answer,
    el("h3", { text: "Sources" }), sources, el("h3", { text: "Passages retrieved" }), passages);
  side().replaceChildren(el("p", { class: "meta", text: "Answers come from the wiki's own passages, cited; with a model configured, the model writes them from those passages." }));
  if (initial) run();
}

async function showDocuments() {
  const listing = await api("/documents");
  const rows = listing.documents.map((d) => el("tr", { "data-doc": d.id }, el("td", {}, el("a", { href: pageHref("summaries/" + d.id), text: d.title || d.name })),
    el("td", { text: d.kind }), el("td", { class: "meta", text: d.source }), el("td", { text: String(d.pages) }),
    el("td", {}, el("button", { class: "remove", text: "Remove…", onclick: () => removeDocument(d) }))));
  view().replaceChildren(el("h1", { text: `Documents (${listing.documents.length})` }),
    el("table", { class: "list" }, el("tr", {}, ["Document", "Kind", "Source", "Pages", ""].map((h) => el("th", { text: h }))), rows));
  side().replaceChildren(el("p", {}, el("a", { href: "#/add", text: "Add documents…" })));
}

function planList(label, items) {
  if (!items || !items.length) return null;
  return el("div", {}, el("strong", { text: `${label} (${items.length})` }), el("ul", {}, items.slice(0, 30).map((i) => el("li", { text: i })),
    items.length > 30 ? el("li", { text: `… and ${items.length - 30} more` }) : null));
}

async function removeDocument(doc) {
  const planned = await api(`/documents/${encodeURIComponent(doc.id)}/removal`);
  const p = planned.documents[0];
  const body = el("div", { class: "plan" }, el("p", { text: `Removing ${p.name} takes its sections out of every page; no model call. Undo brings it back.` }),
    planList("Pages deleted", p.pages_deleted), planList("Pages changed", p.pages_changed),
    planList("Pages kept for your notes", p.pages_kept_for_notes), p.raw_file ? el("p", { text: `File deleted: ${p.raw_file}` }) : null);
  if (!(await confirmDialog(`Remove ${p.name}?`, body, "Remove"))) return;
  try {
    const done = await api(`/documents/${encodeURIComponent(doc.id)}`, { method: "DELETE" });
    flash(`Removed ${done.removed.join(", ")}. Undo is in History.`, true);
    await showDocuments();
    view().prepend(el("p", {}, el("button", { id: "undo-last", text: "Undo this removal…", onclick: () => undoCommand(null) })));
  } catch (err) { flash(err.message); }
}

async function undoCommand(id) {
  let planned;
  try { planned = await api("/undo/plan" + (id === null ? "" : `?id=${id}`)); } catch (err) { return flash(err.message); }
  const plan = planned.plan;
  const body = el("div", { class: "plan" }, el("p", { text: `Command ${plan.command.id}: ${plan.command.argv.join(" ") || plan.command.label} (${plan.command.at})` }),
    planList("Files put back", plan.restore), planList("Files deleted", plan.delete), planList("Documents", plan.documents));
  if (!(await confirmDialog("Undo this command?", body, "Undo"))) return;
  try {
    const done = await api("/undo", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ id }) });
    flash(`Undone: command ${done.plan.command.id}.`, true);
    route();
  } catch (err) { flash(err.message); }
}

function showAdd() {
  const input = el("input", { type: "file", id: "file-input", multiple: "" });
  const drop = el("div", { class: "drop", id: "drop" }, "Drop documents here, or ", input);
  const list = el("ul", { class: "uploads", id: "uploads" });
  const url = el("input", { type: "url", id: "url-input", placeholder: "https://…" });
  const urlButton = el("button", { text: "Add URL" });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); uploadAll([...e.dataTransfer.files], list); });
  input.addEventListener("change", () => uploadAll([...input.files], list));
  urlButton.addEventListener("click", () => { if (url.value.trim()) addOne(null, url.value.trim(), list); });
  view().replaceChildren(el("h1", { text: "Add documents" }), drop, el("p", {}, url, " ", urlButton), list);
  side().replaceChildren(el("p", { class: "meta", text: "Each file is one transaction. Uploading a file again under the same name updates its document." }));
}

async function uploadAll(files, list) {
  for (const file of files) await addOne(file, null, list);  // one after another: each is its own transaction
}

function addOne(file, url, list) {
  const name = file ? file.name : url;
  const bar = el("progress", { max: "1", value: "0" });
  const state = el("span", { class: "phase", text: "uploading" });
  const item = el("li", { "data-name": name }, el("strong", { text: name }), bar, state);
  list.append(item);
  const form = new FormData();
  if (file) form.append("file", file, file.name); else form.append("url", url);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    let buffer = "", seen = 0;
    xhr.open("POST", API + "/documents");
    xhr.setRequestHeader("Accept", "text/event-stream");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = 0.5 * e.loaded / e.total; };
    const onEvent = (event, data) => {
      if (event === "progress") { state.textContent = data.phase; bar.value = 0.5 + 0.5 * ["reading", "fetching", "converting", "compiling", "writing"].indexOf(data.phase) / 5; }
      else if (event === "done") {
        const outcome = data.files[0] || { status: "failed", detail: "nothing was added" };
        bar.value = 1;
        state.textContent = outcome.status + (outcome.detail ? `: ${outcome.detail}` : "");
        state.className = "phase status-" + outcome.status;
        if (outcome.id && outcome.status !== "failed") item.append(" ", el("a", { href: pageHref("summaries/" + outcome.id), text: "open" }));
      } else if (event === "error") { state.textContent = "failed: " + data.message; state.className = "phase status-failed"; }
    };
    xhr.onprogress = () => { buffer = parseEvents(buffer + xhr.responseText.slice(seen), onEvent); seen = xhr.responseText.length; };
    xhr.onload = () => {
      if (xhr.status >= 400) {
        let message = xhr.statusText;
        try { message = JSON.parse(xhr.responseText).message; } catch (e) { /* not JSON */ }
        state.textContent = "failed: " + message; state.className = "phase status-failed";
      } else { buffer = parseEvents(buffer + xhr.responseText.slice(seen), onEvent); }
      resolve();
    };
    xhr.onerror = () => { state.textContent = "failed: the server could not be reached"; state.className = "phase status-failed"; resolve(); };
    xhr.send(form);
  });
}

async function showLint() {
  const report = await api("/lint");
  const fix = el("button", { class: "primary", text: "Fix what lint can fix", onclick: async () => {
    try {
      const fixed = await api("/lint", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ fix: true }) });
      flash(fixed.fixed.length ? `Fixed: ${fixed.fixed.join("; ")}` : "Nothing to fix.", true);
      showLint();
    } catch (err) { flash(err.message); }
  } });
  const counts = Object.entries(report.findings.reduce((acc, f) => ({ ...acc, [f.kind]: (acc[f.kind] || 0) + 1 }), {}));
  const shown = report.findings.slice(0, 500);  // a large wiki may have thousands: the counts say how many
  view().replaceChildren(el("h1", { text: `Lint: ${report.findings.length} finding(s)` }),
    el("p", { class: "meta", text: counts.map(([k, n]) => `${n} ${k}`).join(", ") + (shown.length < report.findings.length ? ` (the first ${shown.length} are listed)` : "") }),
    report.findings.some((f) => f.fixable) ? fix : null,
    shown.length ? el("table", { class: "list" }, shown.map((f) => el("tr", { class: "finding" },
      el("td", { text: f.kind }), el("td", {}, f.page.startsWith("wiki/") ? el("a", { href: pageHref(targetOf(f.page)), text: f.page }) : f.page),
      el("td", { text: f.detail + (f.fixable ? " (fixable)" : "") })))) : el("p", { text: "No findings: the wiki is consistent." }));
  side().replaceChildren();
}

async function showHistory() {
  const report = await api("/history?limit=50");
  view().replaceChildren(el("h1", { text: "History" }), el("table", { class: "list" }, report.commands.map((c) => el("tr", {},
    el("td", { text: String(c.id) }), el("td", { class: "meta", text: c.at }), el("td", { text: c.argv.join(" ") || c.label }),
    el("td", { text: c.documents.join(", ") }), el("td", {}, el("button", { text: "Undo…", onclick: () => undoCommand(c.id) }))))));
  side().replaceChildren(el("p", { class: "meta", text: `Undo keeps what it needs for the last ${report.keep} commands.` }));
}

async function showGraph(target) {
  const graph = await api("/graph" + (target ? `?page=${encodeURIComponent(target)}&depth=2` : ""));
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "graph");
  svg.setAttribute("viewBox", "0 0 1000 640");
  const nodes = graph.nodes.map((n, i) => ({ ...n, x: 500 + 300 * Math.cos(i * 2.4), y: 320 + 220 * Math.sin(i * 2.4), vx: 0, vy: 0 }));
  const index = new Map(nodes.map((n, i) => [n.path, i]));
  const edges = graph.edges.map(([a, b]) => [index.get(a), index.get(b)]);
  layout(nodes, edges, graph.center ? index.get(graph.center) : -1);
  const ns = "http://www.w3.org/2000/svg";
  for (const [a, b] of edges) {
    const line = document.createElementNS(ns, "line");
    line.setAttribute("x1", nodes[a].x); line.setAttribute("y1", nodes[a].y); line.setAttribute("x2", nodes[b].x); line.setAttribute("y2", nodes[b].y);
    svg.append(line);
  }
  for (const n of nodes) {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", n.x); dot.setAttribute("cy", n.y); dot.setAttribute("r", n.path === graph.center ? 9 : 6);
    dot.setAttribute("class", n.kind + (n.path === graph.center ? " center" : ""));
    dot.addEventListener("click", () => { location.hash = "#/graph/" + n.target; });
    const title = document.createElementNS(ns, "title"); title.textContent = n.title; dot.append(title);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", n.x + 8); label.setAttribute("y", n.y + 4); label.textContent = n.title.slice(0, 28);
    svg.append(dot, label);
  }
  const note = target ? `The pages within two links of ${target} (${nodes.length} shown of ${graph.total_pages}${graph.truncated ? ", limited" : ""}). Click a page to centre on it.`
    : `The wiki's hubs: the pages fed by the most documents (${nodes.length} shown of ${graph.total_pages}). Click a page to see its neighbourhood.`;
  view().replaceChildren(el("h1", { text: "Graph" }), el("p", { class: "meta", text: note }), svg);
  side().replaceChildren(...(target ? [el("p", {}, el("a", { href: pageHref(target), text: "Open " + target }))] : []),
    el("p", {}, el("a", { href: "#/graph", text: "Hubs of the wiki" })));
}

function layout(nodes, edges, center) {  // a small force layout: ≤ 200 nodes, a few hundred steps
  for (let step = 0; step < 300; step++) {
    const cool = 1 - step / 300;
    for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) {
      const dx = nodes[i].x - nodes[j].x, dy = nodes[i].y - nodes[j].y, d2 = Math.max(dx * dx + dy * dy, 25);
      const f = 9000 / d2;
      nodes[i].vx += dx * f / Math.sqrt(d2); nodes[i].vy += dy * f / Math.sqrt(d2);
      nodes[j].vx -= dx * f / Math.sqrt(d2); nodes[j].vy -= dy * f / Math.sqrt(d2);
    }
    for (const [a, b] of edges) {
      const dx = nodes[b].x - nodes[a].x, dy = nodes[b].y - nodes[a].y;
      nodes[a].vx += dx * 0.02; nodes[a].vy += dy * 0.02; nodes[b].vx -= dx * 0.02; nodes[b].vy -= dy * 0.02;
    }
    for (const [i, n] of nodes.entries()) {
      n.vx += (500 - n.x) * 0.003; n.vy += (320 - n.y) * 0.003;
      if (i === center) { n.x = 500; n.y = 320; n.vx = n.vy = 0; continue; }
      n.x = Math.min(960, Math.max(30, n.x + Math.max(-20, Math.min(20, n.vx)) * cool));
      n.y = Math.min(620, Math.max(20, n.y + Math.max(-20, Math.min(20, n.vy)) * cool));
      n.vx *= 0.5; n.vy *= 0.5;
    }
  }
  // spread what the forces found over the whole drawing, so labels overlap as little as the shape allows
  const xs = nodes.map((n) => n.x), ys = nodes.map((n) => n.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  for (const n of nodes) {
    n.x = x1 > x0 ? 40 + 800 * (n.x - x0) / (x1 - x0) : 500;
    n.y = y1 > y0 ? 30 + 580 * (n.y - y0) / (y1 - y0) : 320;
  }
}

// -- instant search -------------------------------------------------------------------------------------------------

function setupSearch() {
  const input = $("#search"), box = $("#instant");
  let timer = null, asked = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) { box.hidden = true; return; }
    timer = setTimeout(async () => {
      const mine = ++asked;
      let found;
      try { found = await api(`/search?limit=8&q=${encodeURIComponent(q)}`); } catch (err) { return; }
      if (mine !== asked) return;  // a newer keystroke has asked since
      box.replaceChildren(...found.hits.map((h) => el("li", { onclick: () => { box.hidden = true; location.hash = pageHref(targetOf(h.page)); } },
        el("span", { class: "kind", text: h.kind }), " ", el("strong", { text: h.title }), el("div", { class: "snippet", text: h.snippet.replaceAll("**", "") }))));
      if (!found.hits.length) box.replaceChildren(el("li", { class: "meta", text: "nothing matched" }));
      box.hidden = false;
    }, 120);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && input.value.trim()) { box.hidden = true; location.hash = "#/search/" + encodeURIComponent(input.value.trim()); }
    if (e.key === "Escape") box.hidden = true;
  });
  document.addEventListener("click", (e) => { if (!box.contains(e.target) && e.target !== input) box.hidden = true; });
}

// -- routing --------------------------------------------------------------------------------------------------------

async function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
  const [head, ...rest] = hash.split("/");
  const arg = rest.join("/");
  try {
    if (head === "page" && arg) await showPage(arg);
    else if (head === "search") await showSearch(arg);
    else if (head === "ask") showAsk(arg);
    else if (head === "documents") await showDocuments();
    else if (head === "add") showAdd();
    else if (head === "lint") await showLint();
    else if (head === "history") await showHistory();
    else if (head === "graph") await showGraph(arg);
    else await showHome();
  } catch (err) {
    view().replaceChildren(el("h1", { text: err.code === "page_not_found" ? "No such page" : "Something went wrong" }), el("p", { text: err.message }));
  }
  window.scrollTo(0, 0);
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", () => { setupSearch(); route(); });
