// The gosdxl web page: a form for /sdapi/v1/txt2img, a progress bar fed
// by polling /sdapi/v1/progress, the result with its parameters, and the
// images of this session. Plain JavaScript, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const past = [];

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const r = await fetch("sdapi/v1/" + path, init);
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    throw new Error((data && data.detail) || r.status + " " + r.statusText);
  }
  return data;
}

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  select.appendChild(o);
}

async function loadLists() {
  const [options, samplers, schedulers, loras] = await Promise.all([
    api("options"), api("samplers"), api("schedulers"), api("loras"),
  ]);
  $("model").textContent = options.sd_model_checkpoint;
  for (const s of samplers) option($("sampler"), s.name, s.name);
  $("sampler").value = "Euler a";
  for (const s of schedulers) option($("scheduler"), s.name, s.label);
  for (const l of loras) option($("lora"), l.name, l.alias);
}

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function show(src, info) {
  $("result").innerHTML = "";
  const img = document.createElement("img");
  img.src = src;
  img.alt = "generated image";
  $("result").appendChild(img);
  $("params").textContent = info;
}

function addToHistory(src, info) {
  past.unshift({ src, info });
  past.length = Math.min(past.length, 24);
  const box = $("history");
  box.innerHTML = "";
  for (const h of past) {
    const img = document.createElement("img");
    img.src = h.src;
    img.title = h.info;
    img.onclick = () => show(h.src, h.info);
    box.appendChild(img);
  }
}

async function pollProgress(running) {
  while (running.on) {
    try {
      const p = await api("progress");
      if (!running.on) break;
      $("progress").value = p.progress;
      if (p.state.sampling_steps > 0) {
        const eta = p.eta_relative > 0 ? ", about " + p.eta_relative.toFixed(1) + " s left" : "";
        setStatus("step " + p.state.sampling_step + " of " + p.state.sampling_steps + eta);
      } else if (p.state.job_count > 0) {
        setStatus("waiting in the queue…");
      }
    } catch (e) { /* the next poll will tell */ }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function generate(ev) {
  ev.preventDefault();
  const body = {
    prompt: $("prompt").value,
    negative_prompt: $("negative").value,
    width: Number($("width").value),
    height: Number($("height").value),
    steps: Number($("steps").value),
    cfg_scale: Number($("cfg").value),
    sampler_name: $("sampler").value,
    scheduler: $("scheduler").value,
    seed: Number($("seed").value),
  };
  $("generate").disabled = true;
  $("interrupt").disabled = false;
  $("progress").value = 0;
  setStatus("sending…");
  const running = { on: true };
  pollProgress(running);
  try {
    const res = await api("txt2img", body);
    const info = JSON.parse(res.info);
    if (res.images.length === 0) {
      setStatus("interrupted before an image was finished");
      return;
    }
    res.images.forEach((b64, i) => {
      const src = "data:image/png;base64," + b64;
      show(src, info.infotexts[i]);
      addToHistory(src, info.infotexts[i]);
    });
    $("progress").value = 1;
    setStatus("done: seed " + info.seed);
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    running.on = false;
    $("generate").disabled = false;
    $("interrupt").disabled = true;
  }
}

$("lora").onchange = () => {
  const name = $("lora").value;
  if (name) $("prompt").value += ($("prompt").value ? ", " : "") + "<lora:" + name + ":1>";
  $("lora").value = "";
};
$("interrupt").onclick = () => api("interrupt", {}).catch(() => {});
$("form").onsubmit = generate;
loadLists().catch((e) => setStatus("cannot reach the server: " + e.message, true));
