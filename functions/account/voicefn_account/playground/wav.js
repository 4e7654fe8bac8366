// WAV in the browser: 16-bit PCM files from samples, and any recorded/picked clip as 16 kHz mono.

function wavHeader(dataBytes, sampleRate, channels) {
  const header = new DataView(new ArrayBuffer(44));
  const text = (offset, value) => [...value].forEach((c, i) => header.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  header.setUint32(4, 36 + dataBytes, true);
  text(8, "WAVE");
  text(12, "fmt ");
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true);
  header.setUint16(22, channels, true);
  header.setUint32(24, sampleRate, true);
  header.setUint32(28, sampleRate * channels * 2, true);
  header.setUint16(32, channels * 2, true);
  header.setUint16(34, 16, true);
  text(36, "data");
  header.setUint32(40, dataBytes, true);
  return header.buffer;
}

/** 16-bit little-endian PCM bytes (Uint8Array list) as a WAV blob. */
export function pcmToWav(chunks, sampleRate, channels = 1) {
  const bytes = chunks.reduce((n, c) => n + c.byteLength, 0);
  return new Blob([wavHeader(bytes, sampleRate, channels), ...chunks], { type: "audio/wav" });
}

/** Float samples in [-1, 1] as a 16-bit mono WAV blob. */
export function floatToWav(samples, sampleRate) {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff;
  }
  return pcmToWav([new Uint8Array(pcm.buffer)], sampleRate, 1);
}

/** Decode any clip the browser can play (the recorder's webm/opus, mp3…) to 16 kHz mono WAV:
 * the format every recognizer accepts, and what a mini-program's recorder produces. */
export async function toWav16k(blob) {
  const context = new AudioContext();
  let decoded;
  try {
    decoded = await context.decodeAudioData(await blob.arrayBuffer());
  } finally {
    context.close();
  }
  const rate = 16000;
  const offline = new OfflineAudioContext(1, Math.max(1, Math.ceil(decoded.duration * rate)), rate);
  const source = offline.createBufferSource();
  source.buffer = decoded;
  source.connect(offline.destination);
  source.start();
  const rendered = await offline.startRendering();
  return { blob: floatToWav(rendered.getChannelData(0), rate), seconds: decoded.duration };
}
