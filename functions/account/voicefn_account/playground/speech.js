// Speech: seed 003 §1 (synthesize, stream, synthesize-long as a task) with every parameter.
import { api, apiStream, getToken, poll } from "/playground/api.js";
import { playStream } from "/playground/stream_player.js";
import { $, busy, el, fillSelect, seconds, showError, status } from "/playground/ui.js";

let models = [];
let controller = null;
let voicesLoad = 0;   // only the latest voice list is shown (model changes race)

async function loadModels() {
  models = await api("/api/audio/tts/models");
  fillSelect($("#tts-model"), models.map((m) => [m.model_id, m.model_name || m.model_id]), "cosyvoice-v3-flash");
  describeModel();
}

function describeModel() {
  const model = models.find((m) => m.model_id === $("#tts-model").value);
  $("#tts-model-info").textContent = model
    ? `${model.description || ""} · ¥${model.price_per_10k_chars} per 10k characters · ${(model.features || []).join(", ")}`
    : "";
}

/** System voices of the model and, when signed in, your own clones (usable once OK). */
export async function loadVoices() {
  const select = $("#tts-voice");
  const model = $("#tts-model").value;
  const load = ++voicesLoad;
  const groups = [];
  let system = null;
  try {
    system = await api("/api/audio/voice/system", { query: { model } });
  } catch {
    system = null;  // a deployment without the voice function: type a voice id instead
  }
  if (system) {
    groups.push(el("optgroup", { label: "System voices" },
      system.map((v) => el("option", { value: v.voice_id }, `${v.name || v.voice_id} · ${v.trait || ""} (${v.voice_id})`))));
  }
  if (getToken() && system) {
    try {
      const mine = await api("/api/audio/voice/list", { query: { model, page: 0, page_size: 100 } });
      if (mine.voices && mine.voices.length) {
        groups.push(el("optgroup", { label: "My voices" }, mine.voices.map((v) =>
          el("option", { value: v.voice_id, disabled: v.status !== "OK" }, `${v.voice_id} (${v.status})`))));
      }
    } catch {
      /* the system list still works */
    }
  }
  if (load !== voicesLoad) return;
  const keep = select.value;
  const typed = !system;
  $("#tts-voice").closest("label").hidden = typed;
  $("#tts-voice-other-label").hidden = !typed;
  select.replaceChildren(...groups);
  if (keep && [...select.options].some((o) => o.value === keep)) select.value = keep;
  $("#tts-go").disabled = false;  // disabled until there is a voice to speak with
  $("#tts-long").disabled = false;
  select.dataset.loaded = "true";
}

/** Select `voiceId` of `model` in the Speech panel (a clone from the Voices panel) and show it. */
export async function chooseVoice(model, voiceId) {
  $("#tts-model").value = model;
  describeModel();
  await loadVoices();
  $("#tts-voice").value = voiceId;
  $("#tab-speech").click();
  $("#tts-text").focus();
}

function voice() {
  return $("#tts-voice-other-label").hidden ? $("#tts-voice").value : $("#tts-voice-other").value.trim();
}

function params() {
  const body = {
    model: $("#tts-model").value, voice: voice(), text: $("#tts-text").value,
    format: $("#tts-format").value, sample_rate: Number($("#tts-rate").value),
    volume: Number($("#tts-volume").value), speech_rate: Number($("#tts-speech-rate").value),
    pitch_rate: Number($("#tts-pitch-rate").value),
  };
  const instruction = $("#tts-instruction").value.trim();
  if (instruction) body.instruction = instruction;
  return body;
}

function showResult(data, extra = "") {
  const audio = $("#tts-audio");
  audio.src = data.audio_url;
  audio.play().catch(() => {});
  offerDownload(data.audio_url, `speech.${data.format}`);
  $("#tts-meta").textContent = [
    data.duration !== undefined && `${data.duration} s of audio`,
    data.characters !== undefined && `${data.characters} characters`,
    data.total_characters !== undefined && `${data.total_characters} characters`,
    data.segments !== undefined && `${data.segments} segments`,
    data.bill !== undefined && `bill ¥${data.bill}`,
    data.record_id !== undefined && `record ${data.record_id}`, extra,
  ].filter(Boolean).join(" · ");
}

function offerDownload(href, name) {
  const link = $("#tts-download");
  link.href = href;
  link.download = name;
  link.hidden = false;
}

async function synthesize() {
  const box = $("#tts-status");
  status(box, "");
  delete $("#tts-audio").dataset.firstAudioMs;  // set again when this request's first audio arrives
  const body = params();
  const started = performance.now();
  if (!$("#tts-stream").checked) {
    status(box, "Synthesizing…");
    const data = await api("/api/audio/tts/synthesize", { method: "POST", json: { ...body, stream: false } });
    status(box, "");
    showResult(data, `answered in ${seconds(performance.now() - started)}`);
    return;
  }
  controller = new AbortController();
  $("#tts-stop").hidden = false;
  status(box, "Streaming…");
  const audio = $("#tts-audio");
  let first = null;
  try {
    const response = await apiStream("/api/audio/tts/synthesize", { ...body, stream: true }, controller.signal);
    const blob = await playStream(response, {
      format: body.format, sampleRate: body.sample_rate, audio,
      onFirst: () => {
        first = performance.now() - started;
        $("#tts-meta").textContent = `first audio after ${seconds(first)}`;
        audio.dataset.firstAudioMs = String(Math.round(first));
      },
    });
    offerDownload(URL.createObjectURL(blob), `speech.${body.format === "pcm" ? "wav" : body.format}`);
    status(box, "");
    $("#tts-meta").textContent = [`streamed ${(blob.size / 1024).toFixed(1)} KiB`,
      first !== null && `first audio after ${seconds(first)}`,
      `complete after ${seconds(performance.now() - started)}`].filter(Boolean).join(" · ");
  } catch (err) {
    if (err.name === "AbortError") status(box, "Stopped");
    else throw err;
  } finally {
    controller = null;
    $("#tts-stop").hidden = true;
  }
}

async function synthesizeLong() {
  const box = $("#tts-status");
  const bar = $("#tts-progress");
  status(box, "Submitting the long-text task…");
  const { task_id: taskId } = await api("/api/audio/tts/synthesize-long",
    { method: "POST", json: { ...params(), async: true } });
  bar.hidden = false;
  bar.removeAttribute("value");
  try {
    const task = await poll(() => api(`/api/audio/tts/task/${taskId}`),
      (t) => ["SUCCEEDED", "FAILED", "UNKNOWN"].includes(t.task_status),
      (t) => {
        const progress = t.progress;
        if (progress && progress.total) {
          bar.max = progress.total;
          bar.value = progress.done;
        }
        status(box, `Task ${taskId}: ${t.task_status}${progress ? ` (${progress.done}/${progress.total} segments)` : ""}`);
      });
    if (task.task_status !== "SUCCEEDED") {
      const error = task.error || {};
      throw new Error(error.message || (typeof error === "string" ? error : `task ${task.task_status}`));
    }
    status(box, `Task ${taskId}: SUCCEEDED`, "ok");
    showResult(task.result);
  } finally {
    bar.hidden = true;
  }
}

export function initSpeech() {
  const text = $("#tts-text");
  const count = () => { $("#tts-count").textContent = String([...text.value].length); };
  text.addEventListener("input", count);
  count();
  for (const id of ["#tts-volume", "#tts-speech-rate", "#tts-pitch-rate"]) {
    const input = $(id);
    input.addEventListener("input", () => { input.nextElementSibling.value = input.value; });
  }
  $("#tts-model").addEventListener("change", () => { describeModel(); loadVoices(); });
  $("#tts-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("#tts-go"), $("#tts-status"), synthesize);
  });
  $("#tts-long").addEventListener("click", () => busy($("#tts-long"), $("#tts-status"), synthesizeLong));
  $("#tts-stop").addEventListener("click", () => controller && controller.abort());
  document.addEventListener("auth-changed", loadVoices);
  document.addEventListener("voices-changed", loadVoices);
  loadModels().then(loadVoices).catch((err) => showError($("#tts-status"), err));
}
