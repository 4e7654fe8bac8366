// The microphone: a toggle button records (MediaRecorder), the clip comes back as 16 kHz mono WAV.
import { toWav16k } from "/playground/wav.js";
import { clock, showError, status } from "/playground/ui.js";

/** Wire `button` to record; `onClip(blob, name, seconds)` gets each finished recording. */
export function wireRecorder(button, timerEl, box, onClip) {
  let recorder = null;
  const label = button.textContent;
  const stop = () => {
    button.setAttribute("aria-pressed", "false");
    button.textContent = label;
    if (recorder && recorder.state !== "inactive") recorder.stop();
  };
  const start = async () => {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (err) {
      showError(box, new Error(`No microphone: ${err.message}`));
      return;
    }
    const chunks = [];
    const current = new MediaRecorder(stream);
    recorder = current;
    const started = performance.now();
    const timer = setInterval(() => { timerEl.textContent = `recording ${clock(performance.now() - started)}`; }, 200);
    current.addEventListener("dataavailable", (event) => event.data.size && chunks.push(event.data));
    current.addEventListener("stop", async () => {
      clearInterval(timer);
      stream.getTracks().forEach((track) => track.stop());
      timerEl.textContent = "";
      recorder = null;
      try {
        const { blob, seconds } = await toWav16k(new Blob(chunks, { type: current.mimeType }));
        status(box, "");
        onClip(blob, "recording.wav", seconds);
      } catch (err) {
        showError(box, new Error(`Could not read the recording: ${err.message}`));
      }
    });
    current.start(250);
    button.setAttribute("aria-pressed", "true");
    button.textContent = "■ Stop recording";
    status(box, "Recording… press again to stop");
  };
  button.addEventListener("click", () => (recorder ? stop() : start()));
}

/** Start capturing now; `stop()` resolves to {blob, seconds} (16 kHz mono WAV). For hold-to-talk. */
export async function startCapture() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const chunks = [];
  const recorder = new MediaRecorder(stream);
  recorder.addEventListener("dataavailable", (event) => event.data.size && chunks.push(event.data));
  recorder.start(250);
  return {
    stop: () => new Promise((resolve, reject) => {
      recorder.addEventListener("stop", () => {
        stream.getTracks().forEach((track) => track.stop());
        toWav16k(new Blob(chunks, { type: recorder.mimeType })).then(resolve, reject);
      }, { once: true });
      recorder.stop();
    }),
  };
}
