// xmodal web UI: plain JavaScript, no build step. Talks to the same server's JSON API.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { file: null, like: null, nextOffset: null, lastRequest: null };
const MEDIA_TYPES = /^(image|audio)\//;
const MEDIA_NAMES = /\.(jpe?g|png|gif|bmp|webp|tiff?|wav|flac|ogg|oga|opus|mp3|aiff?)$/i;
const LABELS = { image: "image", audio: "sound", text: "text" };

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function setStatus(message) {
  $("status").textContent = message;
}

function chosenModalities() {
  return [...document.querySelectorAll('input[name="modality"]:checked')].map((box) => box.value);
}

function filters() {
  const result = {};
  const prefix = $("path-prefix").value.trim();
  if (prefix) result.path_prefix = prefix;
  const extensions = $("extensions").value.split(/[\s,]+/).filter(Boolean);
  if (extensions.length) result.extension = extensions;
  return Object.keys(result).length ? result : null;
}

// One request body for what the form holds: text, a file, a "more like" item, a "less like" text.
function buildRequest(offset) {
  const text = $("q").value.trim();
  const minus = $("minus").value.trim();
  const options = { modality: chosenModalities(), k: Number($("page-size").value), offset, mode: $("mode").value };
  const minScore = $("min-score").value;
  if (minScore !== "") options.min_score = Number(minScore);
  const chosenFilters = filters();
  if (chosenFilters) options.filters = chosenFilters;
  const parts = [];
  if (text) parts.push({ text, weight: 1 });
  if (state.like) parts.push({ item: state.like.id, weight: 1 });
  if (minus) parts.push({ text: minus, weight: -0.5 });
  if (!state.file && !parts.some((part) => part.weight > 0)) return null;
  if (parts.length === 1 && !state.file) Object.assign(options, parts[0].text ? { text } : { item: state.like.id });
  else if (parts.length) options.parts = parts;
  if (!state.file) {
    return { body: JSON.stringify(options), headers: { "content-type": "application/json" } };
  }
  const form = new FormData();
  form.append("file", state.file, state.file.name);
  form.append("query", JSON.stringify(options));
  return { body: form, headers: {} };
}

async function search(offset = 0) {
  showError("");
  if (!chosenModalities().length) {
    setStatus("Choose at least one kind of result to show.");
    return;
  }
  const request = buildRequest(offset);
  if (!request) {
    setStatus("Type a query, drop a file, or choose 'More like this' on a result.");
    return;
  }
  setStatus(offset ? "Loading more…" : "Searching…");
  $("results").setAttribute("aria-busy", "true");
  const started = performance.now();
  let response;
  try {
    response = await fetch("/search", { method: "POST", body: request.body, headers: request.headers });
  } catch (error) {
    setStatus("");
    showError(`The server could not be reached (${error.message}).`);
    return;
  } finally {
    $("results").removeAttribute("aria-busy");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    setStatus("");
    $("results").replaceChildren();  // old results under a new error would look like its answer
    $("more").hidden = true;
    showError(explain(response.status, body.detail));
    return;
  }
  render(body.results, offset > 0);
  state.nextOffset = body.next_offset;
  $("more").hidden = body.next_offset === null || body.next_offset === undefined;
  const shown = $("results").children.length;
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  setStatus(shown ? `${shown} result${shown === 1 ? "" : "s"}${$("more").hidden ? "" : " so far"} (${seconds} s)` : "No results. Try other words, or show more kinds of results.");
}

function explain(status, detail) {
  const what = state.file ? `“${state.file.name}”` : "the query";
  if (status === 413) return `The file ${what} is too large for this server: ${detail || "over the upload limit"}.`;
  if (status === 422) return `Cannot search with ${what}: ${detail}`;
  if (status === 404) return `Not found: ${detail}`;
  return `Search failed (${status}): ${detail || "unexpected error"}`;
}

function basename(result) {
  if (result.path) return result.path.split("/").pop();
  return result.external_id || `item ${result.id}`;
}

function render(results, append) {
  const list = $("results");
  if (!append) list.replaceChildren();
  for (const result of results) list.append(card(result));
}

function card(result) {
  const name = basename(result);
  const item = document.createElement("li");
  item.className = `card ${result.modality}`;
  const visual = document.createElement("div");
  visual.className = "visual";
  if (result.modality === "image") {
    const image = document.createElement("img");
    image.src = `/items/${result.id}/thumbnail`;
    image.alt = name;
    image.loading = "lazy";
    visual.append(image);
  } else if (result.modality === "audio") {
    const wave = document.createElement("span");
    wave.className = "wave";
    wave.setAttribute("aria-hidden", "true");
    wave.textContent = "♪";
    const player = document.createElement("audio");
    player.controls = true;
    player.preload = "none";
    player.src = `/items/${result.id}/media`;
    player.setAttribute("aria-label", `Play ${name}`);
    visual.append(wave, player);
  } else {
    const snippet = document.createElement("p");
    snippet.className = "snippet";
    snippet.textContent = (result.text || "").slice(0, 400);
    visual.append(snippet);
  }
  const body = document.createElement("div");
  body.className = "body";
  const title = document.createElement("p");
  title.className = "name";
  title.textContent = name;
  if (result.path) title.title = result.path;
  const meta = document.createElement("div");
  meta.className = "meta";
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.textContent = LABELS[result.modality] || result.modality;
  const score = document.createElement("span");
  score.className = "score";
  score.textContent = `score ${result.score.toFixed(3)}`;
  meta.append(badge, score);
  const more = document.createElement("button");
  more.type = "button";
  more.className = "more-like";
  more.textContent = "More like this";
  more.setAttribute("aria-label", `More like ${name}`);
  more.addEventListener("click", () => moreLike(result.id, name));
  body.append(title, meta, more);
  item.append(visual, body);
  return item;
}

function moreLike(id, name) {
  state.like = { id, name };
  $("like-name").textContent = name;
  $("like-chip").hidden = false;
  $("q").value = "";
  clearFile();
  search(0).then(() => $("results-heading").focus());
}

function chooseFile(file) {
  if (!file) return;
  if (!MEDIA_TYPES.test(file.type) && !MEDIA_NAMES.test(file.name)) {
    showError(`“${file.name}” is ${file.type ? `a ${file.type} file` : "not a file type xmodal knows"}. Choose an image (JPEG, PNG, GIF, WebP) or a sound (WAV, FLAC, Ogg, MP3).`);
    return;
  }
  state.file = file;
  state.like = null;
  $("like-chip").hidden = true;
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
  $("file-chip").hidden = true;
}

async function loadStoreInfo() {
  try {
    const health = await (await fetch("/health")).json();
    const counts = Object.entries(health.items)
      .filter(([modality]) => LABELS[modality])
      .map(([modality, byStatus]) => `${byStatus.indexed || 0} ${LABELS[modality]}${(byStatus.indexed || 0) === 1 ? "" : "s"}`);
    $("store-info").textContent = `${counts.join(", ") || "no items yet"} · model ${health.model.spec}`;
  } catch (error) {
    /* the header keeps its default text */
  }
}

function wire() {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search(0);
  });
  $("file").addEventListener("change", (event) => chooseFile(event.target.files[0]));
  $("clear-file").addEventListener("click", () => { clearFile(); $("file").focus(); });
  $("clear-like").addEventListener("click", () => { state.like = null; $("like-chip").hidden = true; $("q").focus(); });
  $("more").addEventListener("click", () => search(state.nextOffset));
  for (const box of document.querySelectorAll('input[name="modality"], #mode')) {
    box.addEventListener("change", () => { if (buildRequest(0)) search(0); });
  }
  const zone = $("drop-zone");
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    chooseFile(event.dataTransfer.files[0]);
  });
  loadStoreInfo();
}

wire();
