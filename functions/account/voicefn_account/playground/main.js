// Entry point: tabs (arrow keys move between them), then each panel wires itself.
import { initAuth } from "/playground/auth.js";
import { initSpeech } from "/playground/speech.js";
import { initRecognition } from "/playground/recognition.js";
import { initVoices } from "/playground/voices.js";
import { initChat } from "/playground/chat.js";
import { initRealtime } from "/playground/realtime.js";
import { initHistory } from "/playground/history.js";
import { initSettings } from "/playground/settings.js";

function initTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab, focus = true) => {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      other.tabIndex = on ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    history.replaceState(null, "", `#${tab.id.slice(4)}`);
    tab.dispatchEvent(new CustomEvent("tab-shown", { bubbles: true }));
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) select(tabs[(index + step + tabs.length) % tabs.length]);
      else if (event.key === "Home") select(tabs[0]);
      else if (event.key === "End") select(tabs[tabs.length - 1]);
    });
  });
  const wanted = document.getElementById(`tab-${location.hash.slice(1)}`);
  if (wanted) select(wanted, false);
}

initTabs();
initAuth();
initSpeech();
initRecognition();
initVoices();
initChat();
initRealtime();
initHistory();
initSettings();
document.body.dataset.ready = "true";
