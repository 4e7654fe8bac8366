// Voice cloning: seed 003 §3 with the sample uploaded as a mini-program does (a "voice" ticket
// that names the voice to enroll), DEPLOYING → OK, a preview spoken with it, use it, delete it.
import { api, getToken, poll } from "/playground/api.js";
import { chooseVoice } from "/playground/speech.js";
import { wireRecorder } from "/playground/recorder.js";
import { uploadClip } from "/playground/upload.js";
import { $, busy, el, showError, status } from "/playground/ui.js";

let sample = null;
const PREVIEW_TEXT = "Hello! This is my cloned voice, speaking through voicefn.";

function setSample(blob, name, seconds) {
  sample = { blob, name, seconds };
  const audio = $("#voice-sample");
  audio.src = URL.createObjectURL(blob);
  audio.hidden = false;
  $("#voice-sample-info").textContent = `${name} · ${(blob.size / 1024).toFixed(1)} KiB` +
    (seconds ? ` · ${seconds.toFixed(1)} s` : "") + (seconds && seconds < 10 ? " (a sample needs 10–60 s)" : "");
  $("#voice-create").disabled = false;
}

async function create() {
  const box = $("#voice-status");
  const target = $("#voice-model").value;
  const prefix = $("#voice-prefix").value.trim();
  const ticket = await uploadClip(sample, "voice", { voice: { target_model: target, prefix } },
    (u) => Boolean(u.voice_id), (u) => status(box, `Upload ${u.status}`));
  const voiceId = ticket.voice_id;
  const seen = [ticket.voice_status || "DEPLOYING"];
  status(box, `${voiceId}: ${seen[0]}`);
  await list();
  const voice = await poll(() => api(`/api/audio/voice/${encodeURIComponent(voiceId)}`),
    (v) => v.status !== "DEPLOYING",
    (v) => {
      if (seen[seen.length - 1] !== v.status) seen.push(v.status);
      status(box, `${voiceId}: ${seen.join(" → ")}`);
      markStatus(voiceId, v.status);
    }, { interval: 1000 });
  await list();
  $("#voice-history").textContent = `${voiceId}: ${seen.join(" → ")}`;
  if (voice.status !== "OK") throw new Error(`${voiceId}: ${voice.status}${voice.reason ? ` (${voice.reason})` : ""}`);
  status(box, `${voiceId}: ${seen.join(" → ")}, ready to speak`, "ok");
  document.dispatchEvent(new CustomEvent("voices-changed"));
  await preview(voiceId, target);
}

function markStatus(voiceId, state) {
  const cell = document.querySelector(`[data-voice="${CSS.escape(voiceId)}"] .voice-state`);
  if (cell) cell.textContent = state;
}

async function preview(voiceId, model) {
  const box = $("#voice-status");
  const data = await api("/api/audio/tts/synthesize", {
    method: "POST", json: { model, voice: voiceId, text: PREVIEW_TEXT, format: "mp3", stream: false },
  });
  const audio = $("#voice-preview");
  audio.src = data.audio_url;
  audio.hidden = false;
  audio.dataset.previewOf = voiceId;
  audio.play().catch(() => {});
  status(box, `Preview of ${voiceId}: ${data.duration} s, bill ¥${data.bill}`, "ok");
}

async function remove(voice) {
  if (!window.confirm(`Delete ${voice.voice_id}? This cannot be undone.`)) return;
  await api(`/api/audio/voice/${encodeURIComponent(voice.voice_id)}`, { method: "DELETE" });
  status($("#voice-status"), `Deleted ${voice.voice_id}`, "ok");
  document.dispatchEvent(new CustomEvent("voices-changed"));
  await list();
}

async function list() {
  const box = $("#voice-status");
  if (!getToken()) {
    $("#voice-list").replaceChildren();
    return;
  }
  try {
    const data = await api("/api/audio/voice/list", { query: { page: 0, page_size: 100 } });
    $("#voice-count").textContent = `${data.total} voice${data.total === 1 ? "" : "s"}`;
    $("#voice-list").replaceChildren(...data.voices.map((v) => el("li", { "data-voice": v.voice_id },
      el("code", {}, v.voice_id), el("span", { class: "voice-state" }, v.status), el("span", { class: "meta" }, v.target_model),
      el("span", { class: "row" },
        el("button", { type: "button", disabled: v.status !== "OK", class: "voice-preview",
          onclick: (e) => busy(e.currentTarget, box, () => preview(v.voice_id, v.target_model)) }, "Preview"),
        el("button", { type: "button", disabled: v.status !== "OK", class: "voice-use", onclick: () => chooseVoice(v.target_model, v.voice_id) },
          "Use in Speech"),
        el("button", { type: "button", class: "voice-delete",
          onclick: (e) => busy(e.currentTarget, box, () => remove(v)) }, "Delete")))));
  } catch (err) {
    showError(box, err);
  }
}

export function initVoices() {
  const box = $("#voice-status");
  wireRecorder($("#voice-record"), $("#voice-timer"), box, setSample);
  $("#voice-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) setSample(file, file.name, null);
  });
  $("#voice-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("#voice-create"), box, create);
  });
  document.addEventListener("tab-shown", (event) => { if (event.target.id === "tab-voices") list(); });
  document.addEventListener("auth-changed", list);
  list();
}
