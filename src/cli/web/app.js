// GuidingPainter's page: open a sketch, colour its ranked regions one by one, fill closed
// areas by clicking, download the result. Plain JavaScript against the server's JSON API.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = {
    file: $("sketch-file"), size: $("size"), status: $("status"),
    stage: $("stage"), sketch: $("sketch"), regions: $("regions"), overlay: $("overlay"),
    placeholder: $("placeholder"), controls: $("controls"), label: $("region-label"),
    colour: $("colour"), apply: $("apply"), skip: $("skip"), undo: $("undo"),
    palette: $("palette"), pointMode: $("point-mode"), showRegions: $("show-regions"),
    result: $("result"), resultPlaceholder: $("result-placeholder"),
    downloadPng: $("download-png"), downloadOra: $("download-ora"),
  };

  const state = {
    session: null,    // the server's session: id, width, height, working, regions
    name: "sketch",   // the sketch file's name without its extension
    index: 0,         // position of the current region in session.regions (rank order)
    history: [],      // what Undo reverts: {kind: "hint", rank, color}, {kind: "skip", rank} or {kind: "point", x, y, color}
    points: [],       // the point hints given, as the server returned them
    used: [],         // the palette: colours used so far, in order of first use
    masks: new Map(), // rank -> decoded mask image
    busy: false,
  };

  // ---- The API --------------------------------------------------------------------------

  async function api(method, path, options = {}) {
    const response = await fetch(path, { method, ...options });
    if (!response.ok) throw new Error(await errorText(response));
    return response;
  }

  async function errorText(response) {
    let text = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && body.error) text = body.error;
    } catch (_) { /* not JSON: keep the status line */ }
    const after = response.headers.get("Retry-After");
    if (response.status === 503 && after) text += ` (try again in ${after} s)`;
    return text;
  }

  const asJson = (value) => ({ body: JSON.stringify(value), headers: { "Content-Type": "application/json" } });
  const sessionPath = (suffix = "") => `/api/sessions/${encodeURIComponent(state.session.id)}${suffix}`;

  // ---- Status and busy state --------------------------------------------------------------

  function say(text, isError = false) {
    el.status.textContent = text;
    el.status.dataset.kind = isError ? "error" : "info";
  }

  // Runs one step at a time: the page is "busy" meanwhile and errors land in the status line.
  async function step(message, work) {
    if (state.busy) {
      say("Still working on the last step, a moment please.");
      return;
    }
    state.busy = true;
    document.body.dataset.state = "busy";
    say(message);
    refreshControls();
    try {
      await work();
    } catch (error) {
      say(error.message || String(error), true);
    } finally {
      state.busy = false;
      document.body.dataset.state = state.session ? "ready" : "empty";
      refreshControls();
    }
  }

  function refreshControls() {
    const region = currentRegion();
    el.apply.disabled = state.busy || !region;
    el.skip.disabled = state.busy || !region;
    el.undo.disabled = state.busy || state.history.length === 0;
    el.file.disabled = state.busy;
    setLink(el.downloadPng, el.result.hidden ? null : el.result.src, `${state.name}-colorized.png`);
    setLink(el.downloadOra, state.session && !state.busy ? sessionPath("/layers.ora") : null, `${state.name}.ora`);
  }

  function setLink(link, href, filename) {
    if (href) {
      link.href = href;
      link.download = filename;
      link.removeAttribute("aria-disabled");
    } else {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
    }
  }

  // ---- Opening a sketch -------------------------------------------------------------------

  function openSketch(file) {
    if (!file) return;
    step(`Finding the regions of ${file.name}…`, async () => {
      const session = await newSession(file);
      await closeSession();
      hideResult();
      Object.assign(state, {
        session, name: file.name.replace(/\.[^.]*$/, "") || "sketch",
        index: 0, history: [], points: [], used: [], masks: new Map(),
      });
      document.body.dataset.session = state.session.id;
      await showSketch(file);
      showAllRegions();
      renderPalette();
      await showRegion();
      say("Colorizing without hints…");
      await colorize();
      // The server's note (a working size far beyond the sketch's) stays in view with the count.
      const note = session.note ? ` Note: ${session.note}.` : "";
      say(`${state.session.regions.length} regions found. Pick a colour for the highlighted one.${note}`);
    });
  }

  // The sketch open so far stays open until the server has taken the new one, so a file it
  // refuses leaves that work as it was. Only a server full with ours among its sessions
  // makes ours give way; a refusal after that leaves the page empty, never half of each.
  async function newSession(file) {
    const path = `/api/sessions${el.size.value ? `?size=${el.size.value}` : ""}`;
    const upload = () => fetch(path, { method: "POST", body: file });
    let response = await upload();
    if (response.status === 503 && state.session) {
      await closeSession();
      clearPage();
      response = await upload();
    }
    if (!response.ok) throw new Error(`Could not open ${file.name}: ${await errorText(response)}`);
    return response.json();
  }

  async function showSketch(file) {
    const { working } = state.session;
    URL.revokeObjectURL(el.sketch.src);
    el.sketch.src = URL.createObjectURL(file);
    el.overlay.width = working.width;
    el.overlay.height = working.height;
    el.stage.style.aspectRatio = `${state.session.width} / ${state.session.height}`;
    document.documentElement.style.setProperty("--aspect", String(state.session.width / state.session.height));
    el.stage.hidden = false;
    el.controls.hidden = false;
    el.placeholder.hidden = true;
    await el.sketch.decode();
  }

  async function closeSession() {
    if (!state.session) return;
    const path = sessionPath();
    state.session = null;
    delete document.body.dataset.session;
    await fetch(path, { method: "DELETE" }).catch(() => {});
  }

  // Back to the page before any sketch: nothing to colour, undo or download.
  function clearPage() {
    Object.assign(state, { session: null, name: "sketch", index: 0, history: [], points: [], used: [], masks: new Map() });
    delete document.body.dataset.session;
    delete document.body.dataset.rank;
    URL.revokeObjectURL(el.sketch.src);
    el.sketch.removeAttribute("src");
    el.stage.hidden = true;
    el.controls.hidden = true;
    el.placeholder.hidden = false;
    hideResult();
    showAllRegions();
    renderPalette();
  }

  // The last sketch's picture must not pass for the next one's, nor be downloaded as it.
  function hideResult() {
    if (el.result.src.startsWith("blob:")) URL.revokeObjectURL(el.result.src);
    el.result.removeAttribute("src");
    el.result.hidden = true;
    el.resultPlaceholder.hidden = false;
  }

  // ---- The current region and its highlight -------------------------------------------------

  const currentRegion = () => (state.session ? state.session.regions[state.index] || null : null);

  async function maskOf(rank) {
    if (!state.masks.has(rank)) {
      const response = await api("GET", sessionPath(`/regions/${rank}/mask.png`));
      const image = new Image();
      image.src = URL.createObjectURL(await response.blob());
      await image.decode();
      state.masks.set(rank, image);
    }
    return state.masks.get(rank);
  }

  async function showRegion() {
    const region = currentRegion();
    const count = state.session.regions.length;
    document.body.dataset.rank = region ? String(region.rank) : "";
    if (region) {
      el.label.textContent = `Region ${state.index + 1} of ${count}`;
      await maskOf(region.rank);
    } else {
      el.label.textContent = count
        ? `All ${count} regions done. Click areas in fill mode to colour more, or Undo.`
        : "This sketch has no regions. Click areas in fill mode to colour them.";
    }
    drawOverlay();
  }

  // Dims the sketch outside the current region, tints the region with the picked colour,
  // frames its box and marks the point hints.
  function drawOverlay() {
    const canvas = el.overlay;
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (!state.session) return;
    const region = currentRegion();
    const mask = region && state.masks.get(region.rank);
    if (mask) {
      context.fillStyle = "rgba(30, 40, 60, 0.35)";
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.globalCompositeOperation = "destination-out";
      context.drawImage(mask, 0, 0);
      context.globalCompositeOperation = "source-over";
      context.drawImage(tinted(mask, el.colour.value, 0.6), 0, 0);
      const [x0, y0, x1, y1] = region.box;
      context.setLineDash([4, 3]);
      context.lineWidth = Math.max(1, canvas.width / 256);
      context.strokeStyle = "#1f6feb";
      context.strokeRect(x0 + 0.5, y0 + 0.5, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
      context.setLineDash([]);
    }
    const sx = canvas.width / state.session.width, sy = canvas.height / state.session.height;
    for (const point of state.points) {
      context.beginPath();
      context.arc((point.x + 0.5) * sx, (point.y + 0.5) * sy, Math.max(3, canvas.width / 64), 0, 2 * Math.PI);
      context.fillStyle = point.color;
      context.fill();
      context.lineWidth = Math.max(1, canvas.width / 200);
      context.strokeStyle = "#fff";
      context.stroke();
    }
  }

  function tinted(mask, colour, alpha) {
    const canvas = document.createElement("canvas");
    canvas.width = mask.naturalWidth;
    canvas.height = mask.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(mask, 0, 0);
    context.globalCompositeOperation = "source-in";
    context.globalAlpha = alpha;
    context.fillStyle = colour;
    context.fillRect(0, 0, canvas.width, canvas.height);
    return canvas;
  }

  // The ranked-region picture instead of the highlight (loaded when first asked for).
  function showAllRegions() {
    const show = el.showRegions.checked && Boolean(state.session);
    if (show && !el.regions.src.endsWith(sessionPath("/regions.png"))) el.regions.src = sessionPath("/regions.png");
    el.regions.hidden = !show;
    el.overlay.hidden = show;
  }

  // ---- Colorizing -------------------------------------------------------------------------

  async function colorize() {
    const response = await api("POST", sessionPath("/colorize"));
    const url = URL.createObjectURL(await response.blob());
    const old = el.result.src;
    el.result.src = url;
    await el.result.decode();
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    el.result.hidden = false;
    el.resultPlaceholder.hidden = true;
    el.result.dataset.version = String(Number(el.result.dataset.version) + 1);
  }

  function applyHint() {
    const region = currentRegion();
    if (!region) return;
    const color = el.colour.value;
    step(`Colouring region ${state.index + 1} ${color}…`, async () => {
      await api("PUT", sessionPath(`/hints/${region.rank}`), asJson({ color }));
      state.history.push({ kind: "hint", rank: region.rank, color });
      remember(color);
      state.index += 1;
      await showRegion();
      await colorize();
      say(`Region ${region.rank} is ${color}.`);
    });
  }

  function skip() {
    const region = currentRegion();
    if (!region || state.busy) return;
    state.history.push({ kind: "skip", rank: region.rank });
    state.index += 1;
    showRegion().then(() => say("Skipped: that region is left to the colorizer."), (e) => say(e.message, true));
    refreshControls();
  }

  function undo() {
    const last = state.history[state.history.length - 1];
    if (!last) return;
    const indexOf = (rank) => Math.max(0, state.session.regions.findIndex((r) => r.rank === rank));
    step("Undoing…", async () => {
      if (last.kind === "skip") {
        state.index = indexOf(last.rank);
      } else if (last.kind === "hint") {
        await api("DELETE", sessionPath(`/hints/${last.rank}`));
        state.index = indexOf(last.rank);
        el.colour.value = last.color;
      } else {
        await api("DELETE", sessionPath(`/points?x=${last.x}&y=${last.y}`));
        state.points = state.points.filter((p) => p.x !== last.x || p.y !== last.y);
      }
      state.history.pop();
      await showRegion();
      if (last.kind === "skip") {
        say(`Back to region ${last.rank}, which was skipped.`);  // a skip changed nothing on the server
        return;
      }
      await colorize();
      say(last.kind === "hint" ? `Removed the hint of region ${last.rank}.` : `Removed the area at ${last.x}, ${last.y}.`);
    });
  }

  // A click on the sketch in fill mode (or with Shift): the closed area under it gets the colour.
  function fillArea(event) {
    if (!state.session || !(el.pointMode.checked || event.shiftKey)) return;
    const rect = el.sketch.getBoundingClientRect();
    const { width, height } = state.session;
    const x = Math.min(width - 1, Math.max(0, Math.floor(((event.clientX - rect.left) / rect.width) * width)));
    const y = Math.min(height - 1, Math.max(0, Math.floor(((event.clientY - rect.top) / rect.height) * height)));
    const color = el.colour.value;
    step(`Colouring the area at ${x}, ${y}…`, async () => {
      const response = await api("POST", sessionPath("/points"), asJson({ x, y, color }));
      const point = await response.json();
      state.points.push(point);
      state.history.push({ kind: "point", x: point.x, y: point.y, color: point.color });
      remember(color);
      drawOverlay();
      await colorize();
      say(`The area at ${point.x}, ${point.y} (${point.pixels} pixels) is ${point.color}.`);
    });
  }

  // ---- Palette ----------------------------------------------------------------------------

  function remember(color) {
    if (!state.used.includes(color)) {
      state.used.push(color);
      renderPalette();
    }
  }

  function renderPalette() {
    el.palette.replaceChildren(...state.used.map((color) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "swatch";
      button.style.background = color;
      button.title = color;
      button.setAttribute("aria-label", `Use ${color}`);
      button.addEventListener("click", () => {
        el.colour.value = color;
        drawOverlay();
      });
      return button;
    }));
    if (state.used.length === 0) el.palette.textContent = "none yet";
  }

  // ---- Wiring -----------------------------------------------------------------------------

  el.file.addEventListener("change", () => {
    const file = el.file.files[0];
    el.file.value = "";  // so that choosing the same file again, say after an error, opens it again
    openSketch(file);
  });
  el.apply.addEventListener("click", applyHint);
  el.skip.addEventListener("click", skip);
  el.undo.addEventListener("click", undo);
  el.colour.addEventListener("input", drawOverlay);
  el.stage.addEventListener("click", fillArea);
  el.pointMode.addEventListener("change", () => el.stage.classList.toggle("filling", el.pointMode.checked));
  el.showRegions.addEventListener("change", showAllRegions);
  for (const link of [el.downloadPng, el.downloadOra]) {
    link.addEventListener("click", (event) => {
      if (!link.href) event.preventDefault();
    });
  }

  document.addEventListener("dragover", (event) => {
    event.preventDefault();
    document.body.classList.add("dropping");
  });
  document.addEventListener("dragleave", (event) => {
    if (!event.relatedTarget) document.body.classList.remove("dropping");
  });
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    document.body.classList.remove("dropping");
    const file = event.dataTransfer.files[0];
    if (file) openSketch(file);
  });
  window.addEventListener("pagehide", () => {
    if (state.session) fetch(sessionPath(), { method: "DELETE", keepalive: true });
  });

  renderPalette();
  refreshControls();
})();
