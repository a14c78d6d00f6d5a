// Sound waveforms: fetched once per item from GET /items/{id}/waveform and drawn as SVG bars.

const SVG = "http://www.w3.org/2000/svg";
const HEIGHT = 40;
const BAR = 2;  // one peak per 2 viewBox units: a 1.4-wide bar and a gap
const requests = new Map();

export function loadWaveform(id) {
  if (!requests.has(id)) {
    const request = fetch(`/items/${id}/waveform`).then(async (response) => {
      if (response.ok) return response.json();
      const body = await response.json().catch(() => ({}));
      throw new Error(body.detail || `waveform unavailable (${response.status})`);
    });
    request.catch(() => requests.delete(id));  // a failure may pass (a file put back): ask again next time
    requests.set(id, request);
  }
  return requests.get(id);
}

// Bars scaled to the loudest peak, so a quiet sound still shows its shape. When only the first part
// of a long sound was decoded (the server's max_audio_seconds), the bars take that share of the
// width and a dashed line stands for the rest.
export function waveformSvg(waveform) {
  const peaks = waveform.peaks;
  const loudest = Math.max(...peaks, 1e-6);
  const drawnShare = waveform.duration > 0 ? Math.min(1, waveform.peaks_seconds / waveform.duration) : 1;
  const width = (peaks.length * BAR) / drawnShare;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${HEIGHT}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("wave-svg");
  peaks.forEach((peak, index) => {
    const height = Math.max(1, (peak / loudest) * (HEIGHT - 2));
    const bar = document.createElementNS(SVG, "rect");
    bar.setAttribute("x", String(index * BAR));
    bar.setAttribute("y", String((HEIGHT - height) / 2));
    bar.setAttribute("width", "1.4");
    bar.setAttribute("height", String(height));
    svg.append(bar);
  });
  if (drawnShare < 1) {
    const rest = document.createElementNS(SVG, "line");
    for (const [name, value] of [["x1", peaks.length * BAR], ["x2", width], ["y1", HEIGHT / 2], ["y2", HEIGHT / 2]]) {
      rest.setAttribute(name, String(value));
    }
    rest.classList.add("wave-rest");
    svg.append(rest);
  }
  return svg;
}

// A box for the waveform with a "played" overlay that follows an audio element.
export function waveformBox(id, player) {
  const box = document.createElement("span");
  box.className = "wave";
  box.dataset.waveFor = String(id);
  const played = document.createElement("span");
  played.className = "played";
  box.append(played);
  if (player) {
    player.addEventListener("timeupdate", () => {
      const share = player.duration ? player.currentTime / player.duration : 0;
      box.style.setProperty("--progress", String(share));
    });
  }
  return box;
}

// Fills `box` with the item's waveform, and `durationLabel` with its length.
export function fillWaveform(id, box, durationLabel) {
  return loadWaveform(id).then(
    (waveform) => {
      box.prepend(waveformSvg(waveform));
      box.dataset.loaded = "true";
      if (waveform.peaks_seconds < waveform.duration) box.title = `waveform of the first ${formatDuration(waveform.peaks_seconds)}`;
      if (durationLabel) {
        durationLabel.textContent = formatDuration(waveform.duration);
        durationLabel.hidden = false;
      }
      return waveform;
    },
    (error) => {
      box.dataset.loaded = "error";
      box.title = error.message;
      return null;
    },
  );
}

export function formatDuration(seconds) {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}
