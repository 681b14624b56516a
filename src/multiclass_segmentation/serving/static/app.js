// The page of the service: uploads an image to /predict and draws the answer.
// No framework and nothing from the internet, so it works offline.
"use strict";

const $ = (id) => document.getElementById(id);

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
  $("status").textContent = "";
}

async function loadModelInfo() {
  const response = await fetch("/model");
  if (!response.ok) {
    $("model-info").textContent = "The model is not ready yet: reload the page in a moment.";
    return;
  }
  const model = await response.json();
  const mdice = model.metrics && model.metrics.test && model.metrics.test.mdice;
  $("model-info").textContent =
    `Model ${model.hypothesis}, version ${model.version} (${model.runtime})` +
    (typeof mdice === "number" ? `, test mDice ${mdice.toFixed(3)}` : "");
  $("api-key-field").hidden = !model.api_key_required;
}

function drawLegend(classes) {
  const rows = classes.map((entry) => {
    const row = document.createElement("tr");
    const name = document.createElement("td");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = entry.color;
    name.append(swatch, entry.name);
    const share = document.createElement("td");
    share.textContent = `${(100 * entry.share).toFixed(1)} %`;
    row.append(name, share);
    return row;
  });
  $("legend").querySelector("tbody").replaceChildren(...rows);
}

async function predict(file) {
  $("error").hidden = true;
  $("status").textContent = `Labelling ${file.name}…`;
  const form = new FormData();
  form.append("file", file);
  const headers = {};
  if ($("api-key").value) headers["X-API-Key"] = $("api-key").value;
  let response;
  try {
    response = await fetch("/predict?format=json&colored_mask=true", {
      method: "POST", body: form, headers,
    });
  } catch (error) {
    showError(`The service did not answer: ${error}`);
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    $("result").hidden = true;
    showError(`${file.name}: ${body.error || response.statusText} (HTTP ${response.status})`);
    return;
  }
  $("mask").style.position = "";
  $("photo").src = URL.createObjectURL(file);
  $("mask").src = body.colored_mask;
  drawLegend(body.classes);
  $("result").hidden = false;
  $("status").textContent =
    `${file.name}: ${body.width} x ${body.height} px, model version ${body.version}`;
}

function setOpacity() {
  $("mask").style.opacity = $("opacity").value;
}

function setUp() {
  const zone = $("drop-zone");
  $("file-input").addEventListener("change", (event) => {
    if (event.target.files.length) predict(event.target.files[0]);
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer.files.length) predict(event.dataTransfer.files[0]);
  });
  $("opacity").addEventListener("input", setOpacity);
  $("photo").addEventListener("error", () => {
    // A format the browser cannot show (e.g. TIFF): the mask alone, fully opaque.
    $("photo").removeAttribute("src");
    $("mask").style.position = "static";
    $("opacity").value = 1;
    setOpacity();
  });
  setOpacity();
  loadModelInfo();
}

setUp();
