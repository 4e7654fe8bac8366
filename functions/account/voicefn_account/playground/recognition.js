// Recognition: record or pick a clip; sync recognition (seed 003 §2.1) or, like a mini-program,
// an upload ticket + the PostObject form (what wx.uploadFile sends), then the task (§2.3).
import { api, poll } from "/playground/api.js";
import { uploadClip } from "/playground/upload.js";
import { wireRecorder } from "/playground/recorder.js";
import { $, busy, clock, el, fillSelect, showError, status } from "/playground/ui.js";

let clip = null;      // {blob, name, seconds}

function setClip(blob, name, secondsLong) {
  clip = { blob, name, seconds: secondsLong };
  const audio = $("#asr-audio");
  audio.src = URL.createObjectURL(blob);
  audio.hidden = false;
  $("#asr-clip").textContent = `${name} · ${(blob.size / 1024).toFixed(1)} KiB` +
    (secondsLong ? ` · ${secondsLong.toFixed(1)} s` : "");
  $("#asr-sync").disabled = false;
  $("#asr-upload").disabled = false;
}

function options() {
  const language = $("#asr-language").value;
  const context = $("#asr-context").value.trim();
  return { language, context, enable_itn: $("#asr-itn").checked };
}

async function recognizeNow() {
  const box = $("#asr-status");
  status(box, "Recognizing…");
  const form = new FormData();
  form.append("model", $("#asr-model").value);
  const { language, context, enable_itn: itn } = options();
  if (language) form.append("language", language);
  if (context) form.append("context", context);
  form.append("enable_itn", String(itn));
  form.append("file", clip.blob, clip.name);
  const data = await api("/api/audio/asr/recognize", { method: "POST", form });
  status(box, "");
  $("#asr-result").replaceChildren(
    el("p", { class: "transcript", id: "asr-text" }, data.text || "(nothing recognized)"),
    el("p", { class: "meta" }, [data.language && `language ${data.language}`, data.emotion && `emotion ${data.emotion}`,
      data.duration !== undefined && `${data.duration} s`, `bill ¥${data.bill}`, `record ${data.record_id}`]
      .filter(Boolean).join(" · ")));
}

async function uploadAndTranscribe() {
  const box = $("#asr-status");
  const bar = $("#asr-progress");
  bar.hidden = false;
  bar.removeAttribute("value");
  try {
    const upload = await uploadClip(clip, "asr", {}, (u) => Boolean(u.task_id), (u) => status(box, `Upload ${u.status}`));
    const task = await poll(() => api(`/api/audio/asr/task/${upload.task_id}`),
      (t) => ["SUCCEEDED", "FAILED", "UNKNOWN"].includes(t.task_status),
      (t) => {
        if (t.progress && t.progress.total) {
          bar.max = t.progress.total;
          bar.value = t.progress.done;
        }
        status(box, `Task ${t.task_id}: ${t.task_status}`);
      });
    if (task.task_status !== "SUCCEEDED") {
      const error = task.error || {};
      throw new Error(error.message || (typeof error === "string" ? error : `task ${task.task_status}`));
    }
    status(box, `Task ${task.task_id}: SUCCEEDED`, "ok");
    renderTranscripts(task);
  } finally {
    bar.hidden = true;
  }
}

function renderTranscripts(task) {
  const audio = $("#asr-audio");
  const transcripts = (task.result && task.result.transcripts) || [];
  const parts = transcripts.map((t) => el("div", {},
    el("p", { class: "transcript", id: `asr-transcript-${t.channel_id}` }, t.text || "(nothing recognized)"),
    el("ol", { class: "sentences" }, (t.sentences || []).map((s) => el("li", { class: "sentence" },
      el("button", {
        type: "button", title: "play from here",
        onclick: () => { audio.currentTime = s.begin_time / 1000; audio.play().catch(() => {}); },
      }, `${clock(s.begin_time)}–${clock(s.end_time)}`),
      el("span", {}, s.text))))));
  const usage = task.usage && task.usage.seconds !== undefined ? `${task.usage.seconds} s billed` : "";
  parts.push(el("p", { class: "meta" }, [usage, task.bill !== undefined && `bill ¥${task.bill}`].filter(Boolean).join(" · ")));
  $("#asr-result").replaceChildren(...parts);
}

async function loadModels() {
  const models = await api("/api/audio/asr/models");
  const sync = models.filter((m) => m.call_type !== "async");
  fillSelect($("#asr-model"), sync.map((m) => [m.model_id, m.model_name || m.model_id]), "qwen3-asr-flash");
}

export function initRecognition() {
  const box = $("#asr-status");
  wireRecorder($("#asr-record"), $("#asr-timer"), box, setClip);
  $("#asr-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) setClip(file, file.name, null);
  });
  $("#asr-sync").addEventListener("click", () => busy($("#asr-sync"), box, recognizeNow));
  $("#asr-upload").addEventListener("click", () => busy($("#asr-upload"), box, uploadAndTranscribe));
  loadModels().catch((err) => showError(box, err));
}
