// Result cards, grouped in a section per kind, with scores labelled by what they measure.

import { fillWaveform, waveformBox } from "./waveform.js";

// The server's table of modalities (xmodal.modalities), embedded in the page: name, label, plural, files.
export const MODALITIES = JSON.parse(document.getElementById("modality-data").textContent);
export const KINDS = MODALITIES.map((m) => m.name);
const capitalized = (word) => word.charAt(0).toUpperCase() + word.slice(1);
export const KIND_NAMES = Object.fromEntries(MODALITIES.map((m) => [m.name, [m.label, m.plural, capitalized(m.plural)]]));
KIND_NAMES.item = ["item", "items", "Items with parts"];  // several media as one item (a result with `parts`)

// What `score` is in each search mode (the response's `mode`), and how to print it.
export const SCORES = {
  vector: { label: "similarity", digits: 3, explain: "Scores are the cosine similarity of the embeddings (−1 to 1; higher is closer)." },
  keyword: { label: "keyword relevance", digits: 2, explain: "Scores are the BM25 keyword relevance (0 or more; higher matches the words better)." },
  hybrid: { label: "fused rank", digits: 4, explain: "Scores fuse the meaning and keyword rankings (reciprocal rank fusion; higher ranks better in both)." },
};

// The "weak match" rule: a result is weak when its score is below a share of the best score *of its
// own kind* among the results shown. Per kind, because scores across kinds are not calibrated: a
// text query gives matching texts a similarity near 1 and the best image about 0.4, so one bar for
// all would dim every image. The share depends on what the score is:
// - vector (cosine similarity): 3/4. On the sample corpus a right match scores 0.6-1.0 against texts
//   and unrelated texts 0.3-0.55, about 1/2 to 2/3 of it; close relatives (violin for "a musical
//   instrument" next to guitar) stay above 3/4.
// - keyword (BM25): 1/2; words that only match stop words score 0.
// - hybrid (reciprocal rank fusion): 1/2, since an item found by only one of the two rankings scores
//   at most half of one at the top of both.
// And whatever the best, a score at or below a floor is no match at all: a cosine similarity near 0
// is an unrelated item, a BM25 relevance of 0 matched no word. What the rule cannot see is a kind
// whose results are all equally poor but above the floor (cross-modal similarities bunch together).
export const WEAK_SHARE = { vector: 0.75, keyword: 0.5, hybrid: 0.5 };
const NO_MATCH = { vector: 0.05, keyword: 0, hybrid: 0 };

export function isWeak(score, best, mode) {
  return score <= (NO_MATCH[mode] ?? 0) || score < best * (WEAK_SHARE[mode] ?? 0.5);
}

export function scoreText(score, mode) {
  const kind = SCORES[mode] || SCORES.vector;
  return `${kind.label} ${score.toFixed(kind.digits)}`;
}

export function displayName(result) {
  if (result.path) return result.path.split("/").pop();
  return result.external_id || `item ${result.id}`;
}

export function countText(count, kind) {
  return `${count} ${KIND_NAMES[kind][count === 1 ? 0 : 1]}`;
}

// The list for a kind, in a section of its own when results are grouped; created in KINDS order.
export function listFor(container, kind, grouped) {
  const key = grouped ? kind : "all";
  let section = container.querySelector(`section[data-kind="${key}"]`);
  if (section) return section.querySelector("ul");
  section = document.createElement("section");
  section.className = "result-section";
  section.dataset.kind = key;
  section.id = `section-${key}`;
  const list = document.createElement("ul");
  list.className = `grid grid-${key}`;
  if (grouped) {
    const heading = document.createElement("h3");
    heading.className = "section-heading";
    heading.id = `heading-${key}`;
    heading.innerHTML = `${KIND_NAMES[kind][2]} <span class="count"></span>`;
    list.setAttribute("aria-labelledby", heading.id);
    section.append(heading);
  } else {
    list.setAttribute("aria-labelledby", "results-heading");
  }
  section.append(list);
  const later = [...container.children].find((other) => KINDS.indexOf(other.dataset.kind) > KINDS.indexOf(kind));
  container.insertBefore(section, later || null);
  return list;
}

// Dims weak matches and writes each section's count; returns {kind: count}.
export function markWeak(container, mode) {
  const cards = [...container.querySelectorAll(".card")];
  const best = {};
  for (const card of cards) best[card.dataset.kind] = Math.max(best[card.dataset.kind] ?? -Infinity, Number(card.dataset.score));
  const counts = {};
  for (const card of cards) {
    const kind = card.dataset.kind;
    counts[kind] = (counts[kind] || 0) + 1;
    const weak = isWeak(Number(card.dataset.score), best[kind], mode);
    card.classList.toggle("weak", weak);
    card.querySelector(".weak-note").hidden = !weak;
  }
  for (const section of container.querySelectorAll("section[data-kind]")) {
    const count = section.querySelector(".count");
    if (count) count.textContent = `(${counts[section.dataset.kind] || 0})`;
  }
  return counts;
}

// One card: a button that opens the preview (the picture, waveform or text and the name), then the
// player for sounds, the score, and "More like this".
export function card(result, mode, { onOpen, onMoreLike }) {
  const name = displayName(result);
  const kind = result.parts ? "item" : KINDS.includes(result.modality) ? result.modality : "text";
  const item = document.createElement("li");
  item.className = `card ${kind}`;
  Object.assign(item.dataset, { id: String(result.id), kind, score: String(result.score) });
  const open = document.createElement("button");
  open.type = "button";
  open.className = "open";
  open.setAttribute("aria-label", `Preview ${name} (${KIND_NAMES[kind][0]})`);
  open.addEventListener("click", () => onOpen(result, item));
  const visual = document.createElement("span");
  visual.className = "visual";
  open.append(visual);
  let player = null;
  if (kind === "item") {
    visual.append(partStrip(result));
  } else if (kind === "image") {
    const image = document.createElement("img");
    image.src = `/items/${result.id}/thumbnail`;
    image.alt = "";
    image.loading = "lazy";
    visual.append(image);
  } else if (kind === "audio") {
    player = document.createElement("audio");
    player.controls = true;
    player.preload = "none";
    player.src = `/items/${result.id}/media`;
    player.setAttribute("aria-label", `Play ${name}`);
    const wave = waveformBox(result.id, player);
    const duration = document.createElement("span");
    duration.className = "duration";
    duration.hidden = true;
    visual.append(wave, duration);
    fillWaveform(result.id, wave, duration);
  } else {
    const snippet = document.createElement("span");
    snippet.className = "snippet";
    const text = (result.text || "").trim();
    snippet.textContent = text.length > 600 ? `${text.slice(0, 600)}…` : text;
    if (text.length < 80) snippet.classList.add("short");
    snippet.id = `snippet-${result.id}`;
    open.setAttribute("aria-describedby", snippet.id);
    visual.append(snippet);
  }
  const title = document.createElement("span");
  title.className = "name";
  title.textContent = name;
  if (result.path) title.title = result.path;
  open.append(title);
  item.append(open);
  if (player) item.append(player);
  if (kind === "item") item.append(...partPlayers(result, name));
  item.append(meta(result, kind, mode), moreLikeButton(name, () => onMoreLike(result)));
  // The whole card opens the preview on a click, except on its own controls.
  item.addEventListener("click", (event) => {
    if (!event.target.closest("button, audio, a")) onOpen(result, item);
  });
  return item;
}

function meta(result, kind, mode) {
  const line = document.createElement("div");
  line.className = "meta";
  const badge = document.createElement("span");
  badge.className = "badge";
  badge.textContent = KIND_NAMES[kind][0];
  const score = document.createElement("span");
  score.className = "score";
  score.textContent = scoreText(result.score, mode);
  score.title = (SCORES[mode] || SCORES.vector).explain;
  const weak = document.createElement("span");
  weak.className = "weak-note";
  weak.textContent = "weak match";
  weak.hidden = true;
  line.append(badge, score, weak);
  return line;
}

function moreLikeButton(name, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "more-like";
  button.textContent = "More like this";
  button.setAttribute("aria-label", `More like ${name}`);
  button.addEventListener("click", action);
  return button;
}

// An item's parts in its card: pictures as thumbnails, captions as text, sounds by name (their players
// follow the card's button); the part that matched the query best is marked.
function partStrip(result) {
  const strip = document.createElement("span");
  strip.className = "parts";
  for (const part of result.parts) {
    const cell = document.createElement("span");
    cell.className = `part part-${part.modality}${part.id === result.best_part ? " best" : ""}`;
    if (part.id === result.best_part) cell.title = "the best-matching part";
    if (part.modality === "image") {
      const image = document.createElement("img");
      image.src = `/items/${part.id}/thumbnail`;
      image.alt = "";
      image.loading = "lazy";
      cell.append(image);
    } else if (part.modality === "text") {
      const text = (part.text || "").trim();
      cell.textContent = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    } else {
      cell.textContent = `♪ ${part.path ? part.path.split("/").pop() : part.piece || ""}`;  // a video's: "soundtrack"
    }
    strip.append(cell);
  }
  return strip;
}

// A video (an item whose file is a video; its parts are frames and the soundtrack) plays as one clip,
// its poster the frame from its middle; other items play each sound part.
const VIDEO_FILE = /\.(mp4|mov|mkv|webm)$/i;

function partPlayers(result, name) {
  if (result.path && VIDEO_FILE.test(result.path)) {
    const player = document.createElement("video");
    Object.assign(player, { controls: true, preload: "none", poster: `/items/${result.id}/thumbnail` });
    player.src = `/items/${result.id}/media`;
    player.className = "clip";
    player.setAttribute("aria-label", `Play the video ${name}`);
    return [player];
  }
  return result.parts.filter((part) => part.modality === "audio").map((part) => {
    const player = document.createElement("audio");
    player.controls = true;
    player.preload = "none";
    player.src = `/items/${part.id}/media`;
    player.setAttribute("aria-label", `Play the sound of ${name}`);
    return player;
  });
}
