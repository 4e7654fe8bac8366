// voicefn's public API as any client calls it: Bearer token, JSON envelopes, error messages.
const TOKEN_KEY = "voicefn.playground.token";

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function getToken() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  document.dispatchEvent(new CustomEvent("auth-changed"));
}

/** The JWT's claims (unverified: only to show who is signed in), or null. */
export function tokenClaims(token = getToken()) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return null;
  }
}

function headers(extra = {}) {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}`, ...extra } : { ...extra };
}

/** The message the API returned: seed envelopes {code, message}, OpenAI {error: {message}}. */
async function errorFrom(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  let code;
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    message = body.message || (body.error && body.error.message) || body.detail || message;
    code = typeof body.error === "string" ? body.error : (body.error && body.error.code) || body.code;
  } catch {
    if (text) message = `${message}: ${text.slice(0, 300)}`;
  }
  return new ApiError(String(message), response.status, code);
}

/**
 * Call `path` and return the envelope's `data` (or the parsed JSON when it has no envelope).
 * options: method, json (body), form (FormData), query (object).
 */
export async function api(path, { method = "GET", json, form, query } = {}) {
  const url = withQuery(path, query);
  const init = { method, headers: headers() };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers["Content-Type"] = "application/json";
  } else if (form !== undefined) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new ApiError(`cannot reach the server: ${err.message}`, 0);
  }
  if (!response.ok) throw await errorFrom(response);
  const type = response.headers.get("content-type") || "";
  if (!type.includes("json")) return response;
  const body = await response.json();
  if (body && typeof body === "object" && "code" in body && "data" in body) {
    if (body.code !== 200) throw new ApiError(body.message || `error ${body.code}`, body.code);
    return body.data;
  }
  return body;
}

/** A streaming POST: the Response, once its status says the stream started (else the API's error). */
export async function apiStream(path, json, signal) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST", body: JSON.stringify(json), signal,
      headers: headers({ "Content-Type": "application/json" }),
    });
  } catch (err) {
    throw new ApiError(`cannot reach the server: ${err.message}`, 0);
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

/** A multipart POST to a URL that is not the API (an OSS PostObject form): no Authorization. */
export async function postForm(url, form) {
  let response;
  try {
    response = await fetch(url, { method: "POST", body: form });
  } catch (err) {
    throw new ApiError(`upload failed: ${err.message}`, 0);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    // OSS answers XML: <Message>…</Message>
    const match = /<Message>([^<]*)<\/Message>/.exec(error.message);
    if (match) error.message = match[1];
    throw error;
  }
  return response;
}

export function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Poll `load()` every `interval` ms until `done(value)`; `onValue` sees every answer. */
export async function poll(load, done, onValue, { interval = 500, timeoutMs = 600000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await load();
    onValue(value);
    if (done(value)) return value;
    if (Date.now() > deadline) throw new ApiError("still not finished: gave up waiting", 504);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
