// The preview: a modal dialog with the full image, text or sound (waveform and duration), the file's
// name, path and details, a download link and "More like this". Tab stays inside it, Esc closes it,
// ‹ and › (or the arrow keys) step through the results, and focus goes back to the result's card.

import { displayName, KIND_NAMES, scoreText } from "./results.js";
import { fillWaveform, formatDuration, waveformBox } from "./waveform.js";

const $ = (id) => document.getElementById(id);
const FOCUSABLE = "button:not([disabled]), a[href], audio[controls], input, select, textarea, [tabindex]:not([tabindex='-1'])";
const view = { results: [], index: 0, mode: "vector", hooks: null, returnFocus: true };

export function setUpPreview() {
  const dialog = $("preview");
  $("preview-close").addEventListener("click", () => dialog.close());
  $("preview-prev").addEventListener("click", () => step(-1));
  $("preview-next").addEventListener("click", () => step(1));
  $("preview-like").addEventListener("click", () => {
    const result = view.results[view.index];
    view.returnFocus = false;  // the new search moves focus to the results
    dialog.close();
    view.hooks.onMoreLike(result);
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Tab") trapTab(event, dialog);
    const inControl = event.target.closest("audio, input, select, textarea");
    if (!inControl && event.key === "ArrowLeft") step(-1);
    if (!inControl && event.key === "ArrowRight") step(1);
  });
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();  // a click on the backdrop
  });
  dialog.addEventListener("close", () => {
    for (const player of dialog.querySelectorAll("audio")) player.pause();
    $("preview-media").replaceChildren();  // stops loading a large image or sound
    if (view.returnFocus) view.hooks.focusCard(view.results[view.index]);
    view.returnFocus = true;
  });
}

// `results`: the results shown, in order; `index`: the one to show; hooks: onMoreLike(result), focusCard(result).
export function openPreview(results, index, mode, hooks) {
  Object.assign(view, { results, index, mode, hooks, returnFocus: true });
  show();
  const dialog = $("preview");
  if (!dialog.open) dialog.showModal();
  $("preview-close").focus();
}

export function previewIsOpen() {
  return $("preview").open;
}

function step(delta) {
  const next = view.index + delta;
  if (next < 0 || next >= view.results.length) return;
  view.index = next;
  show();
}

// Tab from the last control goes to the first and Shift+Tab from the first to the last, so focus
// never leaves the dialog for the browser's own interface.
function trapTab(event, dialog) {
  const controls = [...dialog.querySelectorAll(FOCUSABLE)].filter((element) => element.offsetParent !== null);
  if (!controls.length) return;
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

function show() {
  const result = view.results[view.index];
  const name = displayName(result);
  $("preview-title").textContent = name;
  $("preview-prev").disabled = view.index === 0;
  $("preview-next").disabled = view.index === view.results.length - 1;
  $("preview-like").setAttribute("aria-label", `More like ${name}`);
  const hasFile = Boolean(result.path);
  for (const link of [$("preview-download"), $("preview-open")]) {
    link.hidden = !hasFile;
    link.removeAttribute("href");
  }
  if (hasFile) {
    $("preview-download").href = `/items/${result.id}/media?download=1`;
    $("preview-download").setAttribute("download", name);
    $("preview-open").href = `/items/${result.id}/media`;
  }
  $("preview-media").replaceChildren(media(result, name));
  $("preview-details").replaceChildren(...details(result));
  addFileDetails(result);
}

function media(result, name) {
  const box = document.createElement("div");
  box.className = `preview-${result.modality}`;
  if (result.parts) {  // an item with parts: each part as it would be shown alone, the best first
    const ordered = [...result.parts].sort((a, b) => (b.id === result.best_part) - (a.id === result.best_part));
    for (const part of ordered) box.append(media({ ...part, parts: null }, `${name}, ${KIND_NAMES[part.modality]?.[0] || part.modality}`));
  } else if (result.modality === "image") {
    const image = document.createElement("img");
    image.src = `/items/${result.id}/media`;
    image.alt = name;
    box.append(image);
  } else if (result.modality === "audio") {
    const player = document.createElement("audio");
    player.controls = true;
    player.preload = "metadata";
    player.src = `/items/${result.id}/media`;
    player.setAttribute("aria-label", `Play ${name}`);
    const wave = waveformBox(result.id, player);
    wave.classList.add("wave-large");
    // A click on the waveform seeks there (the player's own controls do it from the keyboard).
    wave.addEventListener("click", (event) => {
      const bounds = wave.getBoundingClientRect();
      if (player.duration) player.currentTime = ((event.clientX - bounds.left) / bounds.width) * player.duration;
    });
    const duration = document.createElement("p");
    duration.className = "preview-duration";
    duration.hidden = true;
    box.append(wave, player, duration);
    fillWaveform(result.id, wave, duration).then((waveform) => {
      if (waveform) duration.textContent = `Duration ${formatDuration(waveform.duration)}`;
    });
  } else {
    const text = document.createElement("div");
    text.className = "full-text";
    text.tabIndex = 0;  // scrollable from the keyboard
    text.setAttribute("aria-label", `Text of ${name}`);
    text.textContent = result.text || "";
    box.append(text);
  }
  return box;
}

function details(result) {
  const rows = [["Kind", KIND_NAMES[result.modality]?.[0] || result.modality], ["Score", scoreText(result.score, view.mode)]];
  if (result.path) rows.push(["Path", result.path]);
  if (result.external_id) rows.push(["Id", result.external_id]);
  if (result.parts) rows.push(["Parts", result.parts.map((part) => KIND_NAMES[part.modality]?.[0] || part.modality).join(", ")]);
  for (const [key, value] of Object.entries(result.metadata || {})) rows.push([key, typeof value === "string" ? value : JSON.stringify(value)]);
  return rows.flatMap(([term, value]) => detailRow(term, value));
}

function detailRow(term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  if (term === "Path") dd.className = "path";
  return [dt, dd];
}

// Size and date come from GET /items/{id}; they are added when it answers, if this item is still shown.
async function addFileDetails(result) {
  if (!result.path) return;
  const response = await fetch(`/items/${result.id}`).catch(() => null);
  if (!response || !response.ok || view.results[view.index] !== result || !$("preview").open) return;
  const item = await response.json();
  const rows = [];
  if (item.size != null) rows.push(["Size", formatBytes(item.size)]);
  if (item.mtime != null) rows.push(["Modified", new Date(item.mtime * 1000).toLocaleString()]);
  $("preview-details").append(...rows.flatMap(([term, value]) => detailRow(term, value)));
}

function formatBytes(size) {
  if (size < 1024) return `${size} bytes`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
