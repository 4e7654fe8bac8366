// Chat: OpenAI's /v1/chat/completions streamed as SSE with seed 004's tts_enabled. Each sentence
// is announced with its audio_url while the text still streams; the page plays them in order.
import { apiStream, api } from "/playground/api.js";
import { $, busy, el, seconds, showError, status } from "/playground/ui.js";

const messages = [];

/** Plays announced sentences one after another in one <audio> element. */
class SentencePlayer {
  constructor(audio) {
    this.audio = audio;
    this.queue = [];
    this.playing = false;
    this.played = 0;
    audio.addEventListener("ended", () => this.next());
    audio.addEventListener("error", () => this.next());
  }
  add(url) {
    this.queue.push(url);
    if (!this.playing) this.next();
  }
  next() {
    const url = this.queue.shift();
    this.playing = Boolean(url);
    if (!url) return;
    this.audio.src = url;
    this.audio.play().then(() => { this.played += 1; this.audio.dataset.played = String(this.played); })
      .catch(() => this.next());
  }
}

let player = null;

async function* sseEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
      if (data) yield data;
    }
  }
}

function bubble(role, text) {
  const node = el("li", { class: `msg ${role}` }, el("strong", {}, role === "user" ? "You" : "Assistant"),
    el("span", { class: "text" }, text));
  $("#chat-log").append(node);
  node.scrollIntoView({ block: "nearest" });
  return node;
}

async function send() {
  const box = $("#chat-status");
  const input = $("#chat-input");
  const question = input.value.trim();
  if (!question) throw new Error("Type a message first");
  status(box, "");
  messages.push({ role: "user", content: question });
  bubble("user", question);
  input.value = "";
  const reply = bubble("assistant", "");
  const text = reply.querySelector(".text");
  const spoken = el("ol", { class: "spoken" });
  reply.append(spoken);
  const started = performance.now();
  let firstAudio = null;
  player = new SentencePlayer($("#chat-audio"));
  $("#chat-audio").addEventListener("playing", () => {
    if (!reply.dataset.done) reply.dataset.spokeWhileStreaming = "true";  // speech began before the text ended
  }, { once: true });
  const body = {
    model: $("#chat-model").value, messages, stream: true, max_tokens: Number($("#chat-max").value),
  };
  if ($("#chat-speak").checked) {
    Object.assign(body, { tts_enabled: true, tts_model: $("#tts-model").value, voice: $("#tts-voice").value || undefined });
  }
  const response = await apiStream("/v1/chat/completions", body);
  let answer = "";
  let finished = false;
  for await (const data of sseEvents(response)) {
    if (data === "[DONE]") { finished = true; break; }
    const chunk = JSON.parse(data);
    if (chunk.error) throw new Error(chunk.error.message || "the reply failed");
    const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
    if (delta && delta.content) {
      answer += delta.content;
      text.textContent = answer;
    }
    if (chunk.tts && chunk.tts.audio_url) {
      if (firstAudio === null) {
        firstAudio = performance.now() - started;
        reply.dataset.firstAudioMs = String(Math.round(firstAudio));
      }
      spoken.append(el("li", { "data-index": chunk.tts.index }, chunk.tts.text));
      player.add(chunk.tts.audio_url);
    }
  }
  if (!finished) throw new Error("the reply stopped before it was complete");
  messages.push({ role: "assistant", content: answer });
  reply.dataset.done = "true";
  status(box, [`reply in ${seconds(performance.now() - started)}`,
    firstAudio !== null && `first sentence announced after ${seconds(firstAudio)}`].filter(Boolean).join(" · "));
}

async function loadModels() {
  const data = await api("/v1/models");
  const ids = (data.data || []).filter((m) => !m.type || m.type === "chat").map((m) => m.id);
  $("#chat-model").replaceChildren(...ids.map((id) => el("option", { value: id }, id)));
  if (ids.includes("qwen-plus")) $("#chat-model").value = "qwen-plus";
}

export function initChat() {
  const box = $("#chat-status");
  $("#chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("#chat-send"), box, send);
  });
  $("#chat-clear").addEventListener("click", () => { messages.length = 0; $("#chat-log").replaceChildren(); });
  document.addEventListener("tab-shown", (event) => {
    if (event.target.id === "tab-chat" && !$("#chat-model").options.length) loadModels().catch((err) => showError(box, err));
  });
  if (!$("#panel-chat").hidden) loadModels().catch((err) => showError(box, err));
}
