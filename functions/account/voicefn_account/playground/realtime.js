// Realtime (seed 002 sockets): hold-to-talk over /v1/chat/audio, and an image plus a spoken
// question over /v1/chat/vlm. Audio goes up in numbered base64 packets; the spoken answer comes
// back as MP3 pieces played while they arrive.
import { getToken } from "/playground/api.js";
import { startCapture } from "/playground/recorder.js";
import { MsePlayer } from "/playground/stream_player.js";
import { $, el, showError, status } from "/playground/ui.js";

const AUDIO_PACKET = 8 * 1024;   // seed 002: ≤ 8 KB per packet on /v1/chat/audio
const VLM_PACKET = 50 * 1024;    // ≤ 50 KB on /v1/chat/vlm
let image = null;

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function packets(bytes, size, type) {
  const total = Math.max(1, Math.ceil(bytes.length / size));
  return Array.from({ length: total }, (_, i) => ({
    seq: i + 1, total, ...(type ? { type } : {}), data: base64(bytes.subarray(i * size, (i + 1) * size)),
  }));
}

function decode(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** One question over one socket; resolves when the answer is complete. */
function converse(path, outgoing, view) {
  return new Promise((resolve, reject) => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}${path}?token=${encodeURIComponent(getToken())}`);
    const player = new MsePlayer(view.audio);
    const fail = (message) => { reject(new Error(message)); ws.close(); };
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      const [name, data] = Object.entries(message)[0];
      if (name === "connected") outgoing.forEach((packet) => ws.send(JSON.stringify(packet)));
      else if (name === "error") fail(data.message || "the socket reported an error");
      else if (name.endsWith("chat_started") && data.user_message !== undefined) view.heard(data.user_message);
      else if (name.endsWith("chat_started")) view.heard(`(${data.message})`);
      else if (name.endsWith("chat_chunk")) view.reply(data.full_response);
      else if (name === "audio_stream" && data.event === "data") player.push(decode(data.data));
      else if (name === "audio_stream" && data.event === "finished") player.end();
      else if (name === "audio_complete" || name === "vlm_complete") {
        player.end();
        resolve(data);
        ws.close();
      } else if (name === "packet_ack") view.progress(data);
    });
    ws.addEventListener("close", (event) => { if (event.code !== 1000 && event.code !== 1005) fail(`socket closed (${event.code})`); });
    ws.addEventListener("error", () => fail("the socket could not be opened (signed in?)"));
  });
}

function view(prefix) {
  const log = $(`#${prefix}-log`);
  const turn = el("li", { class: "msg assistant" }, el("strong", {}, "You said"), el("span", { class: "heard" }, "…"),
    el("strong", {}, "Answer"), el("span", { class: "text" }, ""));
  log.append(turn);
  return {
    audio: $(`#${prefix}-audio`),
    heard: (text) => { turn.querySelector(".heard").textContent = text; },
    reply: (text) => { turn.querySelector(".text").textContent = text; },
    progress: (ack) => status($(`#${prefix}-status`), `sent ${ack.received}/${ack.total} packets`),
    done: () => { turn.dataset.done = "true"; },
  };
}

/** Press and hold `button` (mouse, touch, or Space/Enter) to record; release to send. */
function holdToTalk(button, prefix, send) {
  let capture = null;
  const box = $(`#${prefix}-status`);
  const down = async (event) => {
    if (capture || button.disabled) return;
    event.preventDefault();
    button.setAttribute("aria-pressed", "true");
    status(box, "Listening… release to send");
    capture = startCapture().catch((err) => { showError(box, new Error(`No microphone: ${err.message}`)); return null; });
  };
  const up = async () => {
    if (!capture) return;
    const pending = capture;
    capture = null;
    button.setAttribute("aria-pressed", "false");
    const started = await pending;
    if (!started) return;
    button.disabled = true;
    try {
      const { blob } = await started.stop();
      const turn = view(prefix);
      const result = await send(new Uint8Array(await blob.arrayBuffer()), turn);
      turn.done();
      status(box, result.message || "done", "ok");
    } catch (err) {
      showError(box, err);
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener("pointerdown", down);
  button.addEventListener("pointerup", up);
  button.addEventListener("pointerleave", up);
  button.addEventListener("keydown", (event) => { if ((event.key === " " || event.key === "Enter") && !event.repeat) down(event); });
  button.addEventListener("keyup", (event) => { if (event.key === " " || event.key === "Enter") up(); });
}

export function initRealtime() {
  holdToTalk($("#talk-hold"), "talk", (wav, turn) => converse("/v1/chat/audio", packets(wav, AUDIO_PACKET), turn));
  holdToTalk($("#vlm-hold"), "vlm", (wav, turn) => {
    if (!image) throw new Error("Pick an image first");
    return converse("/v1/chat/vlm",
      [...packets(image, VLM_PACKET, "image"), ...packets(wav, VLM_PACKET, "audio"), { type: "end" }], turn);
  });
  $("#vlm-image").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    image = new Uint8Array(await file.arrayBuffer());
    const preview = $("#vlm-preview");
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    $("#vlm-hold").disabled = false;
  });
}
