// "Try the classifier" (issue 27): the book's trained CIFAR-10 classifier, run in the browser.
//
// Put <div class="cifar-demo"></div> on a page and load this script from the site's _static/
// folder. It reads ../demo/ beside _static/ (written by scripts/build_demo.py): model.onnx, whose
// graph takes 32x32 RGB pixels 0-255 (the backbone's preprocessing and resize are inside it),
// card.json (which model it is), samples.json and 20 test images, and ONNX Runtime Web's
// single-threaded WebAssembly build (no network, no SharedArrayBuffer).
//
// The reader picks a test image (click, Tab + Enter, the arrow keys in the row, or the keys 1-9 and 0
// for the first ten), or chooses or drops a photo: the page shows the 32x32 image the model sees,
// its three most likely classes and how long the prediction took.
// window.cifarDemo.ready resolves once every component has shown its first prediction (the
// decks' PDF waits for it); window.cifarDemo.classify(pixels) is what the browser test calls.
(function () {
  "use strict";
  const SIDE = 32;
  const BASE = new URL("../demo/", document.currentScript.src);
  const CSS = `
.cifar-demo { border: 1px solid #ccd; border-radius: 8px; padding: 12px 16px; margin: 1em 0;
  font-size: 16px; line-height: 1.35; text-align: left; }
.cifar-demo .cd-model { margin: 0 0 8px; color: #333; }
.cifar-demo .cd-main { display: flex; gap: 24px; align-items: flex-start; }
.cifar-demo canvas { width: 160px; height: 160px; image-rendering: pixelated; border: 1px solid #999; }
.cifar-demo figure { margin: 0; }
.cifar-demo figcaption { font-size: 13px; color: #555; max-width: 160px; }
.cifar-demo .cd-result { flex: 1; min-width: 220px; }
.cifar-demo .cd-result ol { display: block; list-style: none; margin: 0; padding: 0; }
.cifar-demo li { display: grid; grid-template-columns: 7.5em 1fr 4em; align-items: center; gap: 8px; margin: 4px 0; }
.cifar-demo .cd-bar { background: #eef; height: 18px; border-radius: 3px; overflow: hidden; }
.cifar-demo .cd-bar span { display: block; height: 100%; background: #3b6fb6; }
.cifar-demo li:first-child .cd-bar span { background: #1f4e96; }
.cifar-demo .cd-pct { text-align: right; font-variant-numeric: tabular-nums; }
.cifar-demo .cd-note, .cifar-demo .cd-truth, .cifar-demo .cd-time { margin: 6px 0 0; font-size: 14px; color: #444; }
.cifar-demo .cd-samples { display: flex; flex-wrap: wrap; gap: 4px; margin: 10px 0 6px; }
.cifar-demo .cd-samples button { padding: 1px; border: 2px solid transparent; background: none; cursor: pointer; line-height: 0; }
.cifar-demo .cd-samples button[aria-pressed="true"] { border-color: #1f4e96; }
.cifar-demo .cd-samples button:focus-visible { outline: 3px solid #e08a00; }
.cifar-demo .cd-samples span { display: block; width: 36px; height: 36px; image-rendering: pixelated;
  background-size: cover; }
.cifar-demo .cd-drop { display: block; padding: 6px 8px; border: 2px dashed #aab; border-radius: 6px; font-size: 14px; }
.cifar-demo .cd-drop.cd-over { background: #eef3ff; }
.cifar-demo .cd-message { min-height: 1.3em; margin: 6px 0 0; font-size: 14px; color: #a00; }
/* On a slide (reveal.js): no text under 18 px (reveal draws it at 0.94 of that on 1024x768). */
.reveal .cifar-demo { font-size: 20px; padding: 8px 14px; }
.reveal .cifar-demo .cd-model, .reveal .cifar-demo figcaption, .reveal .cifar-demo .cd-note,
.reveal .cifar-demo .cd-truth, .reveal .cifar-demo .cd-time, .reveal .cifar-demo .cd-drop,
.reveal .cifar-demo .cd-message { font-size: 18px; margin-top: 4px; margin-bottom: 0; }
.reveal .cifar-demo .cd-samples span { width: 38px; height: 38px; }
.reveal .cifar-demo canvas { width: 200px; height: 200px; }
.reveal .cifar-demo figcaption { max-width: 200px; }
.reveal .cifar-demo li { font-size: 22px; margin: 2px 0; }`;

  let session = null; // one ONNX Runtime session, shared by every component on the page
  let loading = null;

  // ONNX Runtime Web and the model, loaded once. The ES module is imported dynamically, so that the
  // decks' require.js (which would claim a UMD script) is not involved.
  function loadModel() {
    if (!loading) {
      loading = (async () => {
        // The model's bytes download while ONNX Runtime's module and binary load and compile.
        const model = fetch(new URL("model.onnx", BASE)).then((r) => {
          if (!r.ok) throw new Error(`model.onnx: HTTP ${r.status}`);
          return r.arrayBuffer();
        });
        const ort = await import(new URL("ort/ort.wasm.bundle.min.mjs", BASE).href);
        ort.env.wasm.numThreads = 1; // single-threaded: no SharedArrayBuffer, no cross-origin isolation
        // The loader is bundled in the module; only the binary is fetched, from the site.
        ort.env.wasm.wasmPaths = { wasm: new URL("ort/ort-wasm-simd-threaded.wasm", BASE).href };
        const [card, samples] = await Promise.all(
          ["card.json", "samples.json"].map((f) => fetch(new URL(f, BASE)).then((r) => {
            if (!r.ok) throw new Error(`${f}: HTTP ${r.status}`);
            return r.json();
          })));
        session = await ort.InferenceSession.create(new Uint8Array(await model), { executionProviders: ["wasm"] });
        // One prediction first, so that the time shown is a prediction's, not the set-up's.
        const blank = new Float32Array(SIDE * SIDE * 3);
        await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", blank, [1, SIDE, SIDE, 3]) });
        return { ort, card, samples };
      })();
    }
    return loading;
  }

  // The ten probabilities for one 32x32 image: RGB or RGBA bytes, row by row (RGBA is what a
  // canvas gives). The model takes float32 [1, 32, 32, 3] with values 0-255.
  async function classify(pixels) {
    const { ort } = await loadModel();
    const channels = pixels.length / (SIDE * SIDE);
    const input = new Float32Array(SIDE * SIDE * 3);
    for (let i = 0; i < SIDE * SIDE; i++) {
      for (let c = 0; c < 3; c++) input[i * 3 + c] = pixels[i * channels + c];
    }
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", input, [1, SIDE, SIDE, 3]) };
    const out = await session.run(feeds);
    return Array.from(out[session.outputNames[0]].data);
  }

  function describe(card) {
    const pct = (x) => `${(100 * x).toFixed(1)} %`;
    const c = card.config || {};
    const which = card.shown === "committed"
      ? `the book's full-size model (run ${card.run})`
      : `this build's own quick model (chapters 3–5, ${(c.n || 0).toLocaleString("en")} training images), not the book's full-size one`;
    const acc = card.test_accuracy != null
      ? `, test accuracy ${pct(card.test_accuracy)} on ${(card.n_test || 0).toLocaleString("en")} test images` : "";
    return `Model: ${which}: ${c.backbone}, ${c.image_size}×${c.image_size} inside the model${acc}; ` +
      `${(card.onnx.bytes / 1e6).toFixed(1)} MB.`;
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text) e.textContent = text;
    return e;
  }

  // One component in `root`; resolves once it shows its first prediction.
  async function mount(root) {
    root.innerHTML = "";
    const model = root.appendChild(el("p", { class: "cd-model" }, "Loading the model…"));
    const main = root.appendChild(el("div", { class: "cd-main" }));
    const fig = main.appendChild(el("figure"));
    const canvas = fig.appendChild(el("canvas", { width: SIDE, height: SIDE, "aria-label": "the image the model sees" }));
    fig.appendChild(el("figcaption", {}, "What the model sees: 32×32 pixels"));
    const result = main.appendChild(el("div", { class: "cd-result" }));
    const top = result.appendChild(el("ol", { "aria-label": "the three most likely classes" }));
    const truth = result.appendChild(el("p", { class: "cd-truth" }));
    const time = result.appendChild(el("p", { class: "cd-time" }));
    result.appendChild(el("p", { class: "cd-note" },
      "It knows only ten classes (airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck) " +
      "and sees 32×32 pixels: anything else still gets one of the ten."));
    const strip = root.appendChild(el("div", { class: "cd-samples", role: "group",
      "aria-label": "CIFAR-10 test images: arrow keys move, Enter picks; keys 1-9 and 0 pick the first ten" }));
    const drop = root.appendChild(el("label", { class: "cd-drop" }, "Or choose or drop a photo of your own: "));
    const file = drop.appendChild(el("input", { type: "file", accept: "image/*" }));
    const message = root.appendChild(el("p", { class: "cd-message", role: "status", "aria-live": "polite" }));
    const ctx = canvas.getContext("2d", { willReadFrequently: true });

    let card, samples, ort;
    try {
      ({ card, samples, ort } = await loadModel());
    } catch (err) {
      model.textContent = "";
      message.textContent = `The model could not be loaded (${err.message || err}): open this page from the built ` +
        "site, served over HTTP (e.g. python -m http.server in _build/html).";
      return;
    }
    model.textContent = describe(card);
    const names = card.class_names;

    // Draw an image (any size) into the 32x32 canvas: its centre square, scaled down; then predict.
    async function show(source, label) {
      const w = source.width, h = source.height, s = Math.min(w, h);
      ctx.imageSmoothingEnabled = true;
      ctx.imageSmoothingQuality = "high";
      ctx.clearRect(0, 0, SIDE, SIDE);
      ctx.drawImage(source, (w - s) / 2, (h - s) / 2, s, s, 0, 0, SIDE, SIDE);
      const pixels = ctx.getImageData(0, 0, SIDE, SIDE).data;
      const start = performance.now();
      const probs = await classify(pixels);
      const ms = performance.now() - start;
      const order = probs.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, 3);
      top.innerHTML = "";
      for (const [p, i] of order) {
        const li = top.appendChild(el("li"));
        li.appendChild(el("span", { class: "cd-name" }, names[i]));
        const bar = li.appendChild(el("span", { class: "cd-bar" })).appendChild(el("span"));
        bar.style.width = `${(100 * p).toFixed(1)}%`;
        li.appendChild(el("span", { class: "cd-pct" }, `${(100 * p).toFixed(1)} %`));
      }
      truth.textContent = label == null ? "Your photo: no true label." : `True label: ${names[label]}`;
      time.textContent = `Prediction took ${ms.toFixed(0)} ms (WebAssembly, one thread, in this browser).`;
      message.textContent = "";
      root.dataset.prediction = names[order[0][1]];
    }

    const buttons = samples.map((s, k) => {
      const b = strip.appendChild(el("button", { type: "button", "aria-pressed": "false",
        "aria-label": `test image ${k + 1}: ${s.class}`, title: `${k + 1}: ${s.class}` }));
      // A background, not an <img>: a thumbnail, not a figure (the decks' layout test measures figures).
      b.appendChild(el("span")).style.backgroundImage = `url("${new URL(s.file, BASE).href}")`;
      b.addEventListener("click", () => pick(k));
      return b;
    });

    async function pick(k) {
      buttons.forEach((b, j) => b.setAttribute("aria-pressed", String(j === k)));
      const img = new Image();
      img.src = new URL(samples[k].file, BASE).href;
      await img.decode();
      await show(img, samples[k].label);
    }

    // A photo of the reader's own. A file the browser cannot decode (a text file renamed .png, say)
    // gets one line on the page; the component stays as it was.
    async function own(f) {
      if (!f) return;
      let bitmap;
      try {
        bitmap = await createImageBitmap(f);
      } catch (err) {
        message.textContent = `“${f.name}” is not an image this browser can read: choose a PNG, JPEG or WebP photo.`;
        return;
      }
      buttons.forEach((b) => b.setAttribute("aria-pressed", "false"));
      await show(bitmap, null);
    }

    file.addEventListener("change", () => own(file.files[0]));
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("cd-over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("cd-over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("cd-over");
      own(e.dataTransfer.files[0]);
    });

    // Keys inside the component stay there: reveal.js would take Space or an arrow to another slide.
    root.addEventListener("keydown", (e) => {
      const k = buttons.indexOf(document.activeElement);
      if (k >= 0 && (e.key === "ArrowRight" || e.key === "ArrowLeft")) {
        const next = (k + (e.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length;
        buttons[next].focus();
        pick(next);
      }
      if (["ArrowRight", "ArrowLeft", "ArrowUp", "ArrowDown", " ", "Enter"].includes(e.key)) e.stopPropagation();
    });
    // Keys 1-9 and 0 pick the first ten test images while this component is on screen (in a deck:
    // on the current slide), unless the reader is typing somewhere.
    document.addEventListener("keydown", (e) => {
      const slide = root.closest(".reveal .slides section");
      const visible = slide ? slide.classList.contains("present") : root.offsetParent !== null;
      if (!visible || e.ctrlKey || e.metaKey || e.altKey || /input|textarea/i.test(e.target.tagName || "")) return;
      if (/^[0-9]$/.test(e.key)) {
        const k = e.key === "0" ? 9 : Number(e.key) - 1;
        if (k < buttons.length) { buttons[k].focus(); pick(k); e.stopPropagation(); }
      }
    });

    await pick(0); // never an empty component: the first test image is picked at once
  }

  function start() {
    const style = document.createElement("style");
    style.textContent = CSS;
    document.head.appendChild(style);
    const roots = Array.from(document.querySelectorAll(".cifar-demo"));
    Promise.all(roots.map((r) => mount(r).catch((err) => {
      const line = r.querySelector(".cd-message");
      if (line) line.textContent = `The classifier failed: ${err.message || err}`;
    }))).then(started);
  }

  let started;
  window.cifarDemo = { classify, loadModel, ready: new Promise((resolve) => { started = resolve; }) };
  if (document.querySelector(".cifar-demo")) loadModel().catch(() => {}); // start now; mount reports errors
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
