// Play synthesized audio while it streams: MP3 through Media Source Extensions, PCM and WAV through
// Web Audio (scheduled chunk by chunk); Ogg/Opus is played once complete (no streaming decoder).
import { pcmToWav } from "/playground/wav.js";

function once(target, name) {
  return new Promise((resolve) => target.addEventListener(name, resolve, { once: true }));
}

async function mseMp3(reader, audio, onFirst) {
  const source = new MediaSource();
  audio.src = URL.createObjectURL(source);
  await once(source, "sourceopen");
  const buffer = source.addSourceBuffer("audio/mpeg");
  const chunks = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    if (buffer.updating) await once(buffer, "updateend");
    buffer.appendBuffer(value);
    if (chunks.length === 1) {
      onFirst();
      audio.play().catch(() => {});
    }
  }
  if (buffer.updating) await once(buffer, "updateend");
  if (source.readyState === "open") source.endOfStream();
  return new Blob(chunks, { type: "audio/mpeg" });
}

/** Where a streamed WAV's samples start, its rate and channels (null until the header is in). */
function wavLayout(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12) return null;
  let offset = 12;
  let rate = 0;
  let channels = 1;
  while (offset + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    if (id === "fmt " && offset + 16 <= bytes.length) {
      channels = view.getUint16(offset + 10, true);
      rate = view.getUint32(offset + 12, true);
    }
    if (id === "data") return { start: offset + 8, rate, channels };
    offset += 8 + size + (size % 2);
  }
  return null;
}

async function webAudioPcm(reader, format, sampleRate, audio, onFirst) {
  const context = new AudioContext();
  let rate = sampleRate;
  let channels = 1;
  let pending = new Uint8Array(0);
  let headerDone = format === "pcm";
  let at = 0;
  const samples = [];
  const play = (bytes) => {
    const frames = Math.floor(bytes.length / (2 * channels));
    if (!frames) return bytes;
    const used = frames * 2 * channels;
    const ints = new Int16Array(bytes.slice(0, used).buffer);
    const buffer = context.createBuffer(channels, frames, rate);
    for (let c = 0; c < channels; c++) {
      const data = buffer.getChannelData(c);
      for (let i = 0; i < frames; i++) data[i] = ints[i * channels + c] / 32768;
    }
    const node = context.createBufferSource();
    node.buffer = buffer;
    node.connect(context.destination);
    at = Math.max(at, context.currentTime + 0.05);
    node.start(at);
    at += buffer.duration;
    samples.push(bytes.slice(0, used));
    return bytes.slice(used);
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const joined = new Uint8Array(pending.length + value.length);
    joined.set(pending);
    joined.set(value, pending.length);
    pending = joined;
    if (!headerDone) {
      const layout = wavLayout(pending);
      if (!layout) continue;
      rate = layout.rate || rate;
      channels = layout.channels || 1;
      pending = pending.slice(layout.start);
      headerDone = true;
    }
    if (!samples.length && pending.length) onFirst();
    pending = play(pending);
  }
  const blob = pcmToWav(samples, rate, channels);
  // what is still scheduled keeps playing; the <audio> element gets the whole clip afterwards
  const left = Math.max(0, at - context.currentTime);
  setTimeout(() => context.close(), left * 1000 + 500);
  audio.src = URL.createObjectURL(blob);
  return blob;
}

async function buffered(reader, format, audio, onFirst) {
  const chunks = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!chunks.length) onFirst();
    chunks.push(value);
  }
  const blob = new Blob(chunks, { type: format === "opus" ? "audio/ogg" : "application/octet-stream" });
  audio.src = URL.createObjectURL(blob);
  audio.play().catch(() => {});
  return blob;
}

/** Play `response`'s body in `audio` as it arrives; resolves to the whole clip as a Blob. */
export async function playStream(response, { format, sampleRate, audio, onFirst = () => {} }) {
  const reader = response.body.getReader();
  if (format === "mp3" && window.MediaSource && MediaSource.isTypeSupported("audio/mpeg")) {
    return mseMp3(reader, audio, onFirst);
  }
  if (format === "pcm" || format === "wav") return webAudioPcm(reader, format, sampleRate, audio, onFirst);
  return buffered(reader, format, audio, onFirst);
}

/** MP3 pieces pushed as they arrive (a socket's audio_stream), played through Media Source. */
export class MsePlayer {
  constructor(audio) {
    this.audio = audio;
    this.source = new MediaSource();
    this.pending = [];
    this.chunks = [];
    this.ended = false;
    audio.src = URL.createObjectURL(this.source);
    this.ready = once(this.source, "sourceopen").then(() => {
      this.buffer = this.source.addSourceBuffer("audio/mpeg");
      this.buffer.addEventListener("updateend", () => this.pump());
    });
  }
  push(bytes) {
    this.chunks.push(bytes);
    this.pending.push(bytes);
    this.ready.then(() => this.pump());
  }
  end() {
    this.ended = true;
    this.ready.then(() => this.pump());
  }
  pump() {
    if (!this.buffer || this.buffer.updating) return;
    const next = this.pending.shift();
    if (next) {
      this.buffer.appendBuffer(next);
      if (this.chunks.length === 1 || this.audio.paused) this.audio.play().catch(() => {});
    } else if (this.ended && this.source.readyState === "open") {
      this.source.endOfStream();
    }
  }
}
