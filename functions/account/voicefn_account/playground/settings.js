// The user's DashScope API key: set, replace, delete; the API only ever answers it masked.
import { api, getToken } from "/playground/api.js";
import { $, busy, showError, status } from "/playground/ui.js";

function render(state) {
  const source = { user: "your key", platform: "the platform's key" }[state.effective_source] || "no key: calls are refused";
  $("#key-state").textContent = state.configured
    ? `Key configured: ${state.masked_key} (updated ${new Date(state.updated_at).toLocaleString()}). Calls use ${source}.`
    : `No key of yours. Calls use ${source}.`;
  $("#key-delete").disabled = !state.configured;
  $("#key-save").textContent = state.configured ? "Replace key" : "Save key";
}

async function load() {
  if (!getToken()) {
    $("#key-state").textContent = "Sign in to manage your key";
    return;
  }
  try {
    render(await api("/api/audio/settings/api-key"));
  } catch (err) {
    showError($("#key-status"), err);
  }
}

export function initSettings() {
  const box = $("#key-status");
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("#key-save"), box, async () => {
      const key = $("#key-input").value.trim();
      if (!key) throw new Error("Type the key first");
      render(await api("/api/audio/settings/api-key", { method: "PUT", json: { api_key: key } }));
      $("#key-input").value = "";
      status(box, "Saved", "ok");
    });
  });
  $("#key-delete").addEventListener("click", () => busy($("#key-delete"), box, async () => {
    render(await api("/api/audio/settings/api-key", { method: "DELETE" }));
    status(box, "Deleted", "ok");
  }));
  document.addEventListener("tab-shown", (event) => { if (event.target.id === "tab-settings") load(); });
  document.addEventListener("auth-changed", load);
  load();
}
