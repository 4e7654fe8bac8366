// Small DOM helpers shared by the panels.
export const $ = (selector, root = document) => root.querySelector(selector);

/** el("p", {class: "x", onclick}, "text", child) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Show what happened in a panel's status line: an error (the API's message) or a note. */
export function status(box, message, kind = "info") {
  box.textContent = message || "";
  box.dataset.kind = kind;
  box.hidden = !message;
  if (kind === "error") box.setAttribute("role", "alert");
  else box.setAttribute("role", "status");
}

export function showError(box, err) {
  status(box, err && err.message ? err.message : String(err), "error");
}

/** Run an async action with its button disabled; errors land in `box`. */
export async function busy(button, box, action) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } catch (err) {
    showError(box, err);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

export function seconds(ms) {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function clock(ms) {
  const total = Math.max(0, Math.round(ms / 100)) / 10;
  const minutes = Math.floor(total / 60);
  const rest = (total - minutes * 60).toFixed(1).padStart(4, "0");
  return `${minutes}:${rest}`;
}

export function fillSelect(select, options, selected) {
  select.replaceChildren(...options.map(([value, label]) => el("option", { value }, label)));
  if (selected !== undefined && options.some(([value]) => value === selected)) select.value = selected;
}
