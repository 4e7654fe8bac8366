// History and bills: seed 003 §5 (type filter, pages from 1, playback of stored audio).
import { api, getToken } from "/playground/api.js";
import { $, el, showError, status } from "/playground/ui.js";

const PAGE_SIZE = 10;
let page = 1;
let total = 0;

function summary(item) {
  try {
    const input = JSON.parse(item.input_data || "{}");
    return input.text || input.prefix || input.audio_url || input.filename || "";
  } catch {
    return item.input_data || "";
  }
}

function row(item) {
  return el("li", { class: "history-item", "data-type": item.type },
    el("div", { class: "head" },
      el("span", { class: "type" }, item.type),
      el("span", {}, item.model_name || ""),
      el("time", { datetime: item.created_at }, new Date(item.created_at).toLocaleString()),
      item.duration !== undefined && el("span", {}, `${item.duration} s`),
      el("span", { class: "bill" }, `¥${item.bill}`),
      item.status && el("span", {}, item.status),
      item.voice_id && el("code", {}, item.voice_id)),
    summary(item) && el("div", { class: "input" }, summary(item)),
    item.output_text && el("div", { class: "output" }, `→ ${item.output_text}`),
    item.output_url && el("audio", { controls: true, preload: "none", src: item.output_url }));
}

async function load() {
  const box = $("#history-status");
  if (!getToken()) {
    status(box, "Sign in to see your history");
    $("#history-list").replaceChildren();
    return;
  }
  try {
    const data = await api("/api/audio/history", { query: { page, page_size: PAGE_SIZE, type: $("#history-type").value } });
    total = data.total;
    const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
    $("#history-list").replaceChildren(...data.items.map(row));
    $("#history-page").textContent = `page ${page} of ${pages} · ${total} records`;
    $("#history-prev").disabled = page <= 1;
    $("#history-next").disabled = page >= pages;
    const bills = data.items.reduce((sum, item) => sum + Number(item.bill || 0), 0);
    status(box, data.items.length ? `This page: ¥${bills.toFixed(6).replace(/0+$/, "").replace(/\.$/, "")}` : "No records yet");
  } catch (err) {
    showError(box, err);
  }
}

export function initHistory() {
  $("#history-type").addEventListener("change", () => { page = 1; load(); });
  $("#history-refresh").addEventListener("click", load);
  $("#history-prev").addEventListener("click", () => { page = Math.max(1, page - 1); load(); });
  $("#history-next").addEventListener("click", () => { page += 1; load(); });
  document.addEventListener("tab-shown", (event) => { if (event.target.id === "tab-history") load(); });
  document.addEventListener("auth-changed", () => { page = 1; if (!$("#panel-history").hidden) load(); });
  if (!$("#panel-history").hidden) load();
}
