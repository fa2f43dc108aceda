// The query page's behaviour: editor with line numbers, examples, running, results, downloads.
"use strict";

const config = JSON.parse(document.getElementById("config").textContent);
const $ = (id) => document.getElementById(id);
const editor = $("query");
const gutter = $("lines");
const out = $("out");
const errorBox = $("error");
const statusText = $("status");
const runButton = $("run");
const pickExample = $("examples");
const initialQuery = editor.value;
const examples = new Map(config.examples.map((e) => [e.id, e]));
const endpoint = window.location.pathname;
const MAX_ROWS = 2000;
const XSD = "http://www.w3.org/2001/XMLSchema#";
const PLAIN_TYPES = new Set([XSD + "string", XSD + "integer"]); // shown without a type tag

// --- editor ---------------------------------------------------------------

function renumber(badLine) {
  const count = editor.value.split("\n").length;
  const numbers = [];
  for (let i = 1; i <= count; i++) {
    numbers.push(i === badLine ? '<span class="bad">' + i + "</span>" : String(i));
  }
  gutter.innerHTML = numbers.join("\n") + "\n\n";
  gutter.scrollTop = editor.scrollTop;
}

function setQuery(text) {
  editor.value = text;
  editor.scrollTop = 0;
  clearError();
  renumber();
}

let leaveOnTab = false; // Escape, then Tab, moves focus out of the editor
editor.addEventListener("input", () => {
  const example = examples.get(pickExample.value);
  if (example && example.query !== editor.value) pickExample.value = "";
  renumber();
});
editor.addEventListener("scroll", () => { gutter.scrollTop = editor.scrollTop; });
editor.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    run();
  } else if (event.key === "Escape") {
    leaveOnTab = true;
  } else if (event.key === "Tab" && !event.shiftKey && !leaveOnTab) {
    event.preventDefault();
    if (!document.execCommand("insertText", false, "  ")) {
      editor.setRangeText("  ", editor.selectionStart, editor.selectionEnd, "end");
      renumber();
    }
  } else {
    leaveOnTab = false;
  }
});

function chooseExample(id) {
  const example = examples.get(id);
  if (!example) return false;
  pickExample.value = id;
  setQuery(example.query);
  return true;
}

pickExample.addEventListener("change", () => {
  if (chooseExample(pickExample.value)) history.replaceState(null, "", "#example=" + pickExample.value);
});
$("reset").addEventListener("click", () => {
  pickExample.value = "";
  setQuery(initialQuery);
  history.replaceState(null, "", endpoint);
  out.replaceChildren();
  statusText.textContent = "";
});

// --- talking to the endpoint ------------------------------------------------

function post(query, extra, accept) {
  return fetch(endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": accept },
    body: new URLSearchParams({ query: query, ...extra }),
  });
}

function messageOf(text) {
  try {
    return JSON.parse(text).error.message;
  } catch (e) {
    return text.trim();
  }
}

const TITLES = {
  0: "The hub did not answer",
  400: "The query cannot be run",
  403: "Refused by this read-only endpoint",
  406: "That format does not fit this kind of result",
  413: "The result is too large",
  500: "The query failed",
  503: "The store is unavailable",
};

function clearError() {
  errorBox.hidden = true;
  errorBox.replaceChildren();
}

// A query the hub answered but warns about (e.g. the https spelling of schema.org's namespace).
function showWarning(message) {
  if (!message) return;
  const title = document.createElement("strong");
  title.textContent = "Warning";
  const detail = document.createElement("pre");
  detail.textContent = message;
  errorBox.replaceChildren(title, detail);
  errorBox.className = "warning";
  errorBox.hidden = false;
}

function showError(status, message) {
  errorBox.className = "error";
  const title = document.createElement("strong");
  title.textContent = (TITLES[status] || "Error") + (status ? " (HTTP " + status + ")" : "");
  const detail = document.createElement("pre");
  detail.textContent = message;
  errorBox.replaceChildren(title, detail);
  const where = /error at (\d+):(\d+)/.exec(message);
  if (where) {
    const line = Number(where[1]);
    const column = Number(where[2]);
    const text = editor.value.split("\n")[line - 1];
    if (text !== undefined) {
      const excerpt = document.createElement("pre");
      excerpt.className = "excerpt";
      excerpt.textContent = "line " + line + ": " + text + "\n" +
        " ".repeat(("line " + line + ": ").length + Math.max(column - 1, 0)) + "^";
      errorBox.append(excerpt);
    }
    renumber(line);
  }
  errorBox.hidden = false;
}

// --- results ----------------------------------------------------------------

function declaredPrefixes(query) {
  // The query's own prefixes first, then the hub's usual ones, longest namespace first.
  const found = Object.entries(config.prefixes);
  const re = /^\s*PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/gim;
  let m;
  while ((m = re.exec(query)) !== null) found.unshift([m[1] || "", m[2]]);
  // A stable sort keeps the query's own prefix first when two name one namespace.
  return found.sort((a, b) => b[1].length - a[1].length);
}

function compact(iri, prefixes) {
  for (const [name, ns] of prefixes) {
    if (ns && iri.startsWith(ns) && /^[\w.-]*$/.test(iri.slice(ns.length))) {
      return name + ":" + iri.slice(ns.length);
    }
  }
  return iri;
}

function tag(text) {
  const span = document.createElement("span");
  span.className = "tag";
  span.textContent = text;
  return span;
}

function fillCell(td, term, prefixes) {
  if (!term) return;
  if (term.type === "uri") {
    const link = document.createElement("a");
    link.href = term.value;
    link.title = term.value;
    link.textContent = compact(term.value, prefixes);
    td.append(link);
    if (config.base && term.value.startsWith(config.base + "id/")) {
      const describe = document.createElement("button");
      describe.type = "button";
      describe.className = "describe";
      describe.title = "DESCRIBE this resource here";
      describe.textContent = "describe";
      describe.addEventListener("click", () => {
        pickExample.value = "";
        setQuery("DESCRIBE <" + term.value + ">\n");
        run();
      });
      td.append(describe);
    }
  } else if (term.type === "literal" || term.type === "typed-literal") {
    td.append(term.value);
    if (term["xml:lang"]) td.append(tag("@" + term["xml:lang"]));
    else if (term.datatype && !PLAIN_TYPES.has(term.datatype)) td.append(tag(compact(term.datatype, prefixes)));
  } else if (term.type === "bnode") {
    td.append("_:" + term.value);
  } else {
    td.append(JSON.stringify(term.value));
  }
}

function table(data, prefixes) {
  const t = document.createElement("table");
  t.id = "results";
  const head = t.createTHead().insertRow();
  for (const v of data.head.vars) {
    const th = document.createElement("th");
    th.textContent = "?" + v;
    head.append(th);
  }
  const body = t.createTBody();
  for (const row of data.results.bindings.slice(0, MAX_ROWS)) {
    const tr = body.insertRow();
    for (const v of data.head.vars) fillCell(tr.insertCell(), row[v], prefixes);
  }
  return t;
}

function note(text) {
  const p = document.createElement("p");
  p.className = "note";
  p.textContent = text;
  return p;
}

function showResult(type, text, query, ms) {
  if (!type.includes("sparql-results+json")) {
    const pre = document.createElement("pre");
    pre.className = "graph";
    pre.textContent = text || "# (no triples)";
    out.replaceChildren(pre);
    statusText.textContent = ms + " ms";
    return;
  }
  const data = JSON.parse(text);
  if ("boolean" in data) {
    out.replaceChildren(note("ASK: " + data.boolean));
    statusText.textContent = ms + " ms";
    return;
  }
  const rows = data.results.bindings.length;
  out.replaceChildren(table(data, declaredPrefixes(query)));
  if (rows > MAX_ROWS) out.append(note("Showing the first " + MAX_ROWS + " of " + rows + " rows; download for all."));
  statusText.textContent = rows + (rows === 1 ? " row, " : " rows, ") + ms + " ms";
}

async function run() {
  const query = editor.value;
  clearError();
  renumber();
  out.replaceChildren();
  statusText.textContent = "running…";
  runButton.disabled = true;
  const example = examples.get(pickExample.value);
  const hash = example && example.query === query
    ? "#example=" + example.id
    : "#query=" + encodeURIComponent(query);
  history.replaceState(null, "", hash);
  const started = performance.now();
  try {
    const res = await post(query, {}, "application/sparql-results+json, text/turtle;q=0.9");
    const text = await res.text();
    const ms = Math.round(performance.now() - started);
    if (!res.ok) {
      statusText.textContent = "";
      showError(res.status, messageOf(text));
      return;
    }
    showResult(res.headers.get("content-type") || "", text, query, ms);
    showWarning(res.headers.get("x-hub-warning"));
  } catch (err) {
    statusText.textContent = "";
    showError(0, "The request failed: " + err.message + ". Is the hub still running?");
  } finally {
    runButton.disabled = false;
  }
}

async function download() {
  const choice = $("format").selectedOptions[0];
  clearError();
  try {
    const res = await post(editor.value, { format: choice.value }, "*/*");
    if (!res.ok) {
      showError(res.status, messageOf(await res.text()));
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = "marittimo-hub-results." + choice.dataset.ext;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (err) {
    showError(0, "The request failed: " + err.message + ". Is the hub still running?");
  }
}

$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  run();
});
$("download").addEventListener("click", download);

// A link to the page may name an example (#example=<id>) or carry a query (#query=...).
(function fromAddress() {
  const hash = new URLSearchParams(window.location.hash.slice(1));
  if (hash.has("example")) chooseExample(hash.get("example"));
  else if (hash.has("query")) setQuery(hash.get("query"));
  renumber();
})();
