// xmodal web UI: plain JavaScript modules, no build step, nothing fetched but this server's own API.
// The search lives in the URL (?q=&kinds=&mode=&like=...), so a link reproduces it and Back works.

import { card, countText, displayName, KINDS, listFor, markWeak, MODALITIES, SCORES, WEAK_SHARE } from "./results.js";
import { openPreview, previewIsOpen, setUpPreview } from "./preview.js";

const $ = (id) => document.getElementById(id);
const state = { file: null, like: null, nextOffset: null, results: [], mode: "vector", sequence: 0, done: 0 };
const UPLOADABLE = MODALITIES.filter((m) => m.uploadable);  // what a query file may be
const escaped = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const MEDIA_TYPES = new RegExp(`^(${UPLOADABLE.flatMap((m) => m.mime_prefixes).map(escaped).join("|")})`);
const MEDIA_NAMES = new RegExp(`(${UPLOADABLE.flatMap((m) => m.extensions).map(escaped).join("|")})$`, "i");
const UPLOAD_CHOICES = UPLOADABLE.map((m) => `${/^[aeiou]/.test(m.label) ? "an" : "a"} ${m.label} (${m.formats})`).join(" or ");
// URL parameter -> the form field it fills (besides q, kinds, mode, like and file).
const URL_FIELDS = { minus: "minus", path: "path-prefix", ext: "extensions", min: "min-score", k: "page-size" };
const DEFAULT_PAGE = "24";

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function setStatus(message) {
  $("status").textContent = message;
}

function chosenKinds() {
  return [...document.querySelectorAll('input[name="modality"]:checked')].map((box) => box.value);
}

// ---- the search as a URL -------------------------------------------------------------------------

function searchParams() {
  const params = new URLSearchParams();
  const text = $("q").value.trim();
  if (text) params.set("q", text);
  if (state.like) params.set("like", String(state.like.id));
  if (state.file) params.set("file", state.file.name);  // a name only: a link cannot carry the file
  params.set("kinds", chosenKinds().join(","));
  params.set("mode", $("mode").value);
  for (const [name, field] of Object.entries(URL_FIELDS)) {
    const value = $(field).value.trim();
    if (value && !(name === "k" && value === DEFAULT_PAGE)) params.set(name, value);
  }
  return params;
}

function recordInHistory(how) {
  const url = `${location.pathname}?${searchParams()}`;
  if (how === "push" && url !== `${location.pathname}${location.search}`) history.pushState(null, "", url);
  else if (how !== "none") history.replaceState(null, "", url);
  const text = $("q").value.trim() || state.like?.name || state.file?.name;
  document.title = text ? `${text} – xmodal` : "xmodal search";
}

// Puts the URL's search into the form; returns what to do: "search", "file" (a file the page no
// longer holds) or "none".
function applyUrl() {
  const params = new URLSearchParams(location.search);
  $("q").value = params.get("q") || "";
  const kinds = params.has("kinds") ? params.get("kinds").split(",") : KINDS;
  for (const box of document.querySelectorAll('input[name="modality"]')) box.checked = kinds.includes(box.value);
  $("mode").value = SCORES[params.get("mode")] ? params.get("mode") : "vector";
  for (const [name, field] of Object.entries(URL_FIELDS)) $(field).value = params.get(name) || (name === "k" ? DEFAULT_PAGE : "");
  if (!$("page-size").value) $("page-size").value = DEFAULT_PAGE;  // a k the menu does not offer
  if ([...Object.keys(URL_FIELDS)].some((name) => name !== "k" && params.has(name))) document.querySelector(".more-options").open = true;
  const like = Number.parseInt(params.get("like") || "", 10);
  if (Number.isInteger(like) && like >= 0) setLike({ id: like, name: state.like?.id === like ? state.like.name : `item ${like}` }, true);
  else clearLike();
  const fileName = params.get("file");
  if (fileName && state.file?.name !== fileName) {
    clearFile();
    return { action: "file", fileName };
  }
  if (!fileName) clearFile();
  return { action: $("q").value.trim() || state.like || state.file ? "search" : "none" };
}

// ---- searching -----------------------------------------------------------------------------------

// One request body for what the form holds: text, a file, a "more like" item, a "less like" text.
function buildRequest(offset) {
  const text = $("q").value.trim();
  const minus = $("minus").value.trim();
  const options = { modality: chosenKinds(), k: Number($("page-size").value), offset, mode: $("mode").value };
  const minScore = $("min-score").value;
  if (minScore !== "") options.min_score = Number(minScore);
  const filters = {};
  if ($("path-prefix").value.trim()) filters.path_prefix = $("path-prefix").value.trim();
  const extensions = $("extensions").value.split(/[\s,]+/).filter(Boolean);
  if (extensions.length) filters.extension = extensions;
  if ($("has-part").value) filters.has_part = [$("has-part").value];
  if (Object.keys(filters).length) options.filters = filters;
  if ($("fusion").value !== "late") options.fusion = $("fusion").value;
  const parts = [];
  if (text) parts.push({ text, weight: 1 });
  if (state.like) parts.push({ item: state.like.id, weight: 1 });
  if (minus) parts.push({ text: minus, weight: -0.5 });
  if (!state.file && !parts.some((part) => part.weight > 0)) return null;
  if (parts.length === 1 && !state.file) Object.assign(options, parts[0].text ? { text } : { item: state.like.id });
  else if (parts.length) options.parts = parts;
  if (!state.file) return { body: JSON.stringify(options), headers: { "content-type": "application/json" } };
  const form = new FormData();
  form.append("file", state.file, state.file.name);
  form.append("query", JSON.stringify(options));
  return { body: form, headers: {} };
}

function clearResults(message) {
  state.sequence += 1;  // an answer still on its way is for a search that no longer stands
  state.results = [];
  state.nextOffset = null;
  $("results").replaceChildren();
  $("more").hidden = true;
  $("legend").hidden = true;
  setStatus(message);
}

// history: "push" (a new search), "replace" (the page's first), or "none" (Back/Forward, more pages).
// The status line counts finished searches in data-done (what the browser tests wait for).
async function search(offset = 0, history = "push") {
  try {
    await runSearch(offset, history);
  } finally {
    state.done += 1;
    $("status").dataset.done = String(state.done);
  }
}

async function runSearch(offset, history) {
  showError("");
  if (!chosenKinds().length) {
    clearResults("No kind of result is chosen: tick Images, Sounds or Texts to see results.");
    return;
  }
  const request = buildRequest(offset);
  if (!request) {
    clearResults("Type a query, drop a file, or choose “More like this” on a result.");
    return;
  }
  if (offset === 0) recordInHistory(history);
  const sequence = ++state.sequence;
  setStatus(offset ? "Loading more…" : "Searching…");
  $("results").setAttribute("aria-busy", "true");
  const started = performance.now();
  let response;
  try {
    response = await fetch("/search", { method: "POST", body: request.body, headers: request.headers });
  } catch (error) {
    if (sequence === state.sequence) {
      clearResults("");
      showError(`The server could not be reached (${error.message}).`);
    }
    return;
  } finally {
    $("results").removeAttribute("aria-busy");
  }
  const body = await response.json().catch(() => ({}));
  if (sequence !== state.sequence) return;  // a newer search has started
  if (!response.ok) {
    clearResults("");  // old results under a new error would look like its answer
    showError(explain(response.status, body.detail));
    if (state.file) {
      clearFile();  // the message names the file; the chip must not offer it again
      recordInHistory("replace");
    }
    return;
  }
  show(body, offset, (performance.now() - started) / 1000);
}

function show(body, offset, seconds) {
  state.mode = body.mode || "vector";
  state.results = offset ? state.results.concat(body.results) : body.results;
  state.nextOffset = body.next_offset ?? null;
  const container = $("results");
  if (!offset) container.replaceChildren();
  const grouped = chosenKinds().length > 1;
  const hooks = { onOpen: preview, onMoreLike: moreLike };
  for (const result of body.results) listFor(container, result.modality, grouped).append(card(result, state.mode, hooks));
  const counts = markWeak(container, state.mode);
  $("more").hidden = state.nextOffset === null;
  const total = state.results.length;
  if (!total) {
    setStatus("No results. Try other words, or show more kinds of results.");
    $("legend").hidden = true;
    return;
  }
  const byKind = [...KINDS, "item"].filter((kind) => counts[kind]).map((kind) => countText(counts[kind], kind));
  const more = $("more").hidden ? "" : " so far";
  setStatus(`${total} result${total === 1 ? "" : "s"}${more}${byKind.length > 1 ? `: ${byKind.join(", ")}` : ""} (${seconds.toFixed(2)} s)`);
  const share = WEAK_SHARE[state.mode] === 0.75 ? "3/4" : "half";
  $("legend").textContent = `${SCORES[state.mode].explain} Dimmed cards are weak matches: below ${share} of the best score of their kind, or no match at all.`;
  $("legend").hidden = false;
}

function explain(status, detail) {
  const what = state.file ? `the file “${state.file.name}”` : "the query";
  if (status === 413) return `The file ${what} is too large for this server: ${detail || "over the upload limit"}.`;
  if (status === 422) return `Cannot search with ${what}: ${detail}`;
  if (status === 404) return `Not found: ${detail}`;
  return `Search failed (${status}): ${detail || "unexpected error"}`;
}

// ---- preview, "more like this", the query file -----------------------------------------------------

function preview(result) {
  openPreview(state.results, state.results.indexOf(result), state.mode, { onMoreLike: moreLike, focusCard });
}

function focusCard(result) {
  document.querySelector(`#results .card[data-id="${result.id}"] .open`)?.focus();
}

function setLike(like, quiet = false) {
  state.like = like;
  $("like-name").textContent = like.name;
  const preview = $("like-preview");
  preview.replaceChildren();
  if (like.modality === "image") {
    const image = document.createElement("img");
    image.alt = "";
    image.src = `/items/${like.id}/thumbnail`;
    preview.append(image);
  }
  $("like-chip").hidden = false;
  if (quiet && like.name.startsWith("item ")) nameLike(like);
}

// A "more like" item from a URL gets its file name from GET /items/{id}.
async function nameLike(like) {
  const response = await fetch(`/items/${like.id}`).catch(() => null);
  if (!response?.ok || state.like?.id !== like.id) return;
  const item = await response.json();
  setLike({ id: like.id, name: displayName(item), modality: item.modality });
}

function clearLike() {
  state.like = null;
  $("like-chip").hidden = true;
}

function moreLike(result) {
  setLike({ id: result.id, name: displayName(result), modality: result.modality });
  $("q").value = "";
  clearFile();
  search(0).then(() => $("results-heading").focus());
}

function chooseFile(file) {
  if (!file) return;
  if (!MEDIA_TYPES.test(file.type) && !MEDIA_NAMES.test(file.name)) {
    clearFile();
    clearResults("");
    showError(`“${file.name}” is ${file.type ? `a ${file.type} file` : "not a file type xmodal knows"}. Choose ${UPLOAD_CHOICES}.`);
    return;
  }
  state.file = file;
  clearLike();
  $("q").value = "";  // the file is the query now; text typed next refines it
  $("file-name").textContent = file.name;
  const preview = $("file-preview");
  preview.replaceChildren();
  if (file.type.startsWith("image/")) {
    const image = document.createElement("img");
    image.alt = "";
    image.addEventListener("error", () => preview.replaceChildren());  // not an image after all
    image.src = URL.createObjectURL(file);
    preview.append(image);
  }
  $("file-chip").hidden = false;
  search(0);
}

function clearFile() {
  state.file = null;
  $("file").value = "";
  $("file-name").textContent = "";
  $("file-preview").replaceChildren();
  $("file-chip").hidden = true;
}

// ---- the store, the keyboard, the wiring -----------------------------------------------------------

async function loadStoreInfo() {
  let health;
  try {
    health = await (await fetch("/health")).json();
  } catch (error) {
    return;  // the header keeps its default text
  }
  const indexed = (kind) => health.items?.[kind]?.indexed || 0;
  const failed = KINDS.reduce((sum, kind) => sum + (health.items?.[kind]?.failed || 0), 0);
  const counts = KINDS.map((kind) => countText(indexed(kind), kind));
  const unread = failed ? ` · ${failed} file${failed === 1 ? "" : "s"} could not be read` : "";
  $("store-info").textContent = `${counts.join(", ")}${unread} · model ${health.model?.spec}`;
  $("store-info").dataset.loaded = "true";
  const empty = KINDS.every((kind) => indexed(kind) === 0);
  $("empty-store").hidden = !empty;
  if (empty) setStatus("The store is empty: there is nothing to search yet.");
}

function isTyping(target) {
  return target.closest("input, textarea, select, [contenteditable]") !== null;
}

function wire() {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search(0);
  });
  // A typed query is a new search: it replaces "more like" (a file stays, and the text refines it).
  $("q").addEventListener("input", () => {
    if (state.like && $("q").value.trim()) clearLike();
  });
  $("file").addEventListener("change", (event) => chooseFile(event.target.files[0]));
  $("clear-file").addEventListener("click", () => { clearFile(); $("file").focus(); });
  $("clear-like").addEventListener("click", () => { clearLike(); $("q").focus(); });
  $("more").addEventListener("click", () => search(state.nextOffset, "none"));
  for (const control of document.querySelectorAll('input[name="modality"], #mode')) {
    control.addEventListener("change", () => {
      if (!chosenKinds().length || buildRequest(0)) search(0);
    });
  }
  document.addEventListener("keydown", (event) => {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target) || previewIsOpen()) return;
    event.preventDefault();
    $("q").focus();
    $("q").select();
  });
  window.addEventListener("popstate", () => {
    const { action, fileName } = applyUrl();
    showError("");
    if (action === "search") search(0, "none");
    else if (action === "file") clearResults(`That search was by the file “${fileName}”, which a link cannot carry: drop the file again.`);
    else clearResults("Type a query or drop a file to search.");
  });
  const zone = $("drop-zone");
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  }
  for (const type of ["dragleave", "drop"]) zone.addEventListener(type, () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    chooseFile(event.dataTransfer.files[0]);
  });
  setUpPreview();
}

function start() {
  if (matchMedia("(max-width: 520px)").matches) $("q").placeholder = "e.g. a dog barking";  // the long one is cut there
  wire();
  loadStoreInfo();
  const { action, fileName } = applyUrl();
  if (action === "search") search(0, "replace");
  else if (action === "file") setStatus(`That search was by the file “${fileName}”, which a link cannot carry: drop the file again.`);
  else if (matchMedia("(min-width: 700px)").matches && document.activeElement === document.body) $("q").focus();
}

start();

// The kinds an item's parts may have, from the server's table of modalities.
for (const kind of MODALITIES) $("has-part").append(new Option(kind.label, kind.name));
