// Sign-in: paste a token, or (voicefn serve only) ask the local-only route for a dev token.
import { api, ApiError, getToken, setToken, tokenClaims } from "/playground/api.js";
import { $, el, showError, status } from "/playground/ui.js";

async function isLocal() {
  try {
    const response = await fetch("/_local/mode");
    return response.ok && (await response.json()).data.runtime === "local";
  } catch {
    return false;
  }
}

/** Check a token the way the API will: an authenticated call that changes nothing. */
async function verify() {
  await api("/api/audio/settings/api-key");
}

function renderWho() {
  const who = $("#who");
  const claims = tokenClaims();
  if (!getToken() || !claims) {
    who.replaceChildren("Not signed in");
    $("#signin").hidden = false;
    return;
  }
  const expires = claims.exp ? new Date(claims.exp * 1000).toLocaleString() : "never";
  who.replaceChildren(
    el("span", {}, "Signed in as ", el("strong", { id: "who-user" }, claims.sub || "?")),
    el("span", { class: "meta" }, `(token expires ${expires})`),
    el("button", { type: "button", id: "sign-out", onclick: () => setToken("") }, "Sign out"),
  );
  $("#signin").hidden = true;
}

export function initAuth() {
  const box = $("#signin-status");
  $("#signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = $("#token-input").value.trim();
    if (!token) return status(box, "Paste a token first", "error");
    const previous = getToken();
    localStorage.setItem("voicefn.playground.token", token);
    try {
      await verify();
      $("#token-input").value = "";
      status(box, "");
      setToken(token);
    } catch (err) {
      if (previous) localStorage.setItem("voicefn.playground.token", previous);
      else localStorage.removeItem("voicefn.playground.token");
      showError(box, err instanceof ApiError && err.status === 401 ? new Error(`Token refused: ${err.message}`) : err);
    }
  });
  $("#dev-token").addEventListener("click", async () => {
    try {
      const response = await fetch("/_local/dev-token", { method: "POST" });
      const body = await response.json();
      if (!response.ok) throw new Error(body.message || `error ${response.status}`);
      status(box, "");
      setToken(body.data.token);
    } catch (err) {
      showError(box, err);
    }
  });
  document.addEventListener("auth-changed", renderWho);
  renderWho();
  isLocal().then((local) => {
    $("#dev-token").hidden = !local;
    $("#local-hint").hidden = !local;
  });
  // a stored token that has expired or was minted for another server: say so, sign out
  if (getToken()) {
    verify().catch((err) => {
      if (err.status === 401) {
        setToken("");
        showError(box, new Error(`Your saved token no longer works: ${err.message}`));
      }
    });
  }
}
