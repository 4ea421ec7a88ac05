// imgmgr web page: plain JS, no build step. Everything shown is set with textContent (never parsed as HTML),
// so file names, labels and messages (all user or model input) can never become markup.
"use strict";

const KEY_STORAGE = "imgmgr.apiKey";
const DELETES_STORAGE = "imgmgr.pendingDeletes";
// With a user pool: the tokens of this tab, and the PKCE verifier and state of a sign-in under way. Tab
// storage only (sessionStorage): closing the tab signs out, and no other tab or site reads them.
const TOKENS_STORAGE = "imgmgr.tokens";
const PKCE_STORAGE = "imgmgr.pkce";
const FINAL = new Set(["ready", "failed", "deleted"]);
const $ = (id) => document.getElementById(id);

const state = {
  key: localStorage.getItem(KEY_STORAGE) || "", cursor: null, polling: null, current: null,
  online: true, reconnect: null, waiters: [], messages: {}, pollDelay: 0, pollRunning: false, pollAgain: false,
  shown: "", uploading: new Set(), batchHashes: new Map(), moreLoaded: false,
  // Organizing (organize.js): the images on the page by id, the selected ones, the last one clicked (the
  // start of a shift-click range), the owner's albums once listed.
  images: new Map(), selected: new Set(), anchor: null, albums: null,
  // Sign-in with the deployment's user pool (null: the key flow), and the tab's tokens.
  signIn: null, tokens: JSON.parse(sessionStorage.getItem(TOKENS_STORAGE) || "null"),
};

// A retryable failure is retried by the pipeline: keep watching it.
const isFinal = (image) => FINAL.has(image.status) && !(image.failure && image.failure.retryable);
// Whether the page should keep polling for this image: something is still happening to it. An upload never
// made (awaiting_upload) is watched only while this page is sending it: nothing else will move it.
const inProgress = (image) => !isFinal(image) && (image.status !== "awaiting_upload" || state.uploading.has(image.id));
// Polling: fast while something changes, slower while nothing does, none when nothing is in progress.
const POLL_FAST_MS = 1500;
const POLL_SLOW_MS = 15000;
// Reconnecting: wait 1, 2, 4 ... seconds between attempts, at most 30.
const RECONNECT_MAX_MS = 30000;

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function say(text) {
  $("message").textContent = text;
  if (text) setTimeout(() => { if ($("message").textContent === text) $("message").textContent = ""; }, 6000);
}

function bytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}

// --- errors in plain words: one table (static/messages.json, also read by the CLI), keyed by the stable code ---
async function loadMessages() {
  try {
    const response = await fetch("static/messages.json");
    if (response.ok) state.messages = await response.json();
  } catch { /* offline: the details are shown until the table loads */ }
}

function plain(code, detail) {
  const table = state.messages;
  const sentence = table[code] || (code && code.startsWith("Http.") ? table["Http.Error"] : "");
  if (!sentence) return detail || code || "Something went wrong.";
  return sentence.replace("{detail}", String(detail || code).replace(/[.\s]+$/, ""));
}

class ApiError extends Error {
  // The message is the plain sentence; ``code`` stays for whatever needs to tell errors apart.
  constructor(status, code, detail) { super(plain(code, detail)); this.status = status; this.code = code; this.detail = detail; }
}

async function api(method, path, body, refreshed = false) {
  const init = { method, headers: {} };
  if (state.key) init.headers["x-api-key"] = state.key;
  // API Gateway's Cognito authorizer takes the ID token as it is (no "Bearer ").
  if (state.signIn && state.tokens) init.headers.authorization = state.tokens.id;
  if (body !== undefined) { init.headers["content-type"] = "application/json"; init.body = JSON.stringify(body); }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    goOffline();
    throw new ApiError(0, "Client.Offline", error.message);
  }
  goOnline();
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new ApiError(response.status, data.code || "Http." + response.status, data.detail);
    // A token that expired: refresh it once and send the call again; refused again, sign in again.
    if (response.status === 401 && state.signIn) {
      if (!refreshed && (await refreshTokens())) return api(method, path, body, true);
      showSignIn("Your session ended: sign in again.");
    } else if (response.status === 401 || response.status === 403) showKeyForm("That key was refused: " + error.message);
    throw error;
  }
  return data;
}

// --- sign-in with the deployment's user pool (managed login, authorization code + PKCE, no SDK) ----------
const pageUrl = () => location.origin + location.pathname;

function base64Url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const randomText = () => base64Url(crypto.getRandomValues(new Uint8Array(32)));

// The pool the page signs in with, or null (no pool: the key flow). The answer carries no data.
async function loadSignIn() {
  try {
    const response = await fetch("v1/sign-in", { cache: "no-store" });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

function keepTokens(answer, refreshToken) {
  state.tokens = { id: answer.id_token, access: answer.access_token, refresh: answer.refresh_token || refreshToken };
  sessionStorage.setItem(TOKENS_STORAGE, JSON.stringify(state.tokens));
}

function dropTokens() {
  state.tokens = null;
  sessionStorage.removeItem(TOKENS_STORAGE);
}

async function tokenRequest(fields) {
  const response = await fetch(state.signIn.login_url + "/oauth2/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: state.signIn.client_id, ...fields }),
  });
  if (!response.ok) throw new Error("the sign-in service refused (" + response.status + ")");
  return response.json();
}

async function startSignIn() {
  const verifier = randomText();
  const nonce = randomText();
  sessionStorage.setItem(PKCE_STORAGE, JSON.stringify({ verifier, state: nonce }));
  const challenge = base64Url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const query = new URLSearchParams({
    response_type: "code", client_id: state.signIn.client_id, redirect_uri: pageUrl(),
    scope: state.signIn.scopes.join(" "), state: nonce, code_challenge: challenge, code_challenge_method: "S256",
  });
  location.assign(state.signIn.login_url + "/oauth2/authorize?" + query);
}

// Back from the managed login with ?code=...&state=...: the code for tokens, once, if the state is ours.
async function finishSignIn(params) {
  const saved = JSON.parse(sessionStorage.getItem(PKCE_STORAGE) || "null");
  sessionStorage.removeItem(PKCE_STORAGE);
  history.replaceState(null, "", location.pathname);
  if (params.get("error")) throw new Error(params.get("error_description") || params.get("error"));
  if (!saved || saved.state !== params.get("state")) throw new Error("that sign-in was not started by this page");
  keepTokens(await tokenRequest({
    grant_type: "authorization_code", code: params.get("code"), redirect_uri: pageUrl(), code_verifier: saved.verifier,
  }));
}

async function refreshTokens() {
  if (!state.tokens || !state.tokens.refresh) return false;
  try {
    keepTokens(await tokenRequest({ grant_type: "refresh_token", refresh_token: state.tokens.refresh }), state.tokens.refresh);
    return true;
  } catch {
    dropTokens();
    return false;
  }
}

function signOut() {
  dropTokens();
  const query = new URLSearchParams({ client_id: state.signIn.client_id, logout_uri: pageUrl() });
  location.assign(state.signIn.login_url + "/logout?" + query);
}

// The signed-in user's e-mail, read from the ID token (display only: API Gateway checks the token).
function signedInAs() {
  try {
    const payload = state.tokens.id.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).email || "";
  } catch {
    return "";
  }
}

function showSignIn(reason) {
  dropTokens();
  $("app").hidden = true;
  $("key-form").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("who").textContent = reason || "Sign in to see your images.";
}

// Signed in: straight to the images, or the key form first when the deployment still wants a key.
function enterSignedIn() {
  $("sign-in").hidden = true;
  $("sign-out").hidden = false;
  $("key-form").hidden = !state.signIn.api_key_required;
  if (state.signIn.api_key_required && !state.key) return showKeyForm("Signed in as " + signedInAs() + ". Enter your API key.");
  return useKey(state.key);
}

// --- offline: keep what is shown, say so, try again with backoff, resume when the server is back ---------
function goOffline() {
  if (!state.online) return;
  state.online = false;
  clearTimeout(state.polling);
  $("offline").hidden = false;
  reconnectLater(1000);
}

function goOnline() {
  if (state.online) return;
  state.online = true;
  clearTimeout(state.reconnect);
  $("offline").hidden = true;
  for (const resolve of state.waiters.splice(0)) resolve();
  // Everything shown may be stale: refresh it (the key form, if the page never got past it).
  if ($("app").hidden) useKey(state.key); else schedulePoll(0);
}

function reconnectLater(delay) {
  clearTimeout(state.reconnect);
  const due = Date.now() + delay;
  const tick = () => {
    const left = Math.max(0, Math.ceil((due - Date.now()) / 1000));
    $("offline-text").textContent = `The server cannot be reached. Showing what was loaded last; trying again in ${left} s.`;
    if (Date.now() < due) { state.reconnect = setTimeout(tick, Math.min(1000, due - Date.now())); return; }
    $("offline-text").textContent = "The server cannot be reached. Trying again now…";
    reconnectNow(Math.min(delay * 2, RECONNECT_MAX_MS));
  };
  tick();
}

async function reconnectNow(nextDelay) {
  clearTimeout(state.reconnect);
  try {
    const response = await fetch("v1/health", { cache: "no-store" });
    if (response.ok) return goOnline();
  } catch { /* still away */ }
  reconnectLater(nextDelay);
}

// Resolves once the server answers again (at once while it does).
const whenOnline = () => (state.online ? Promise.resolve() : new Promise((resolve) => state.waiters.push(resolve)));

// --- key ---------------------------------------------------------------------------------------------------
function showKeyForm(reason) {
  $("app").hidden = true;
  $("key-forget").hidden = true;
  $("key-input").hidden = false;
  $("key-label").hidden = false;
  $("key-use").hidden = false;
  $("who").textContent = reason || "Enter your API key (imgmgr serve prints one on its first run).";
}

async function useKey(key) {
  state.key = key.trim();
  const tokenAlone = state.signIn && !state.signIn.api_key_required;
  if (!state.key && !tokenAlone) return showKeyForm();
  try {
    const totals = await api("GET", "v1/stats");
    if (state.key) localStorage.setItem(KEY_STORAGE, state.key);
    await resendPendingDeletes();
    $("key-input").value = "";
    $("key-input").hidden = true;
    $("key-label").hidden = true;
    $("key-use").hidden = true;
    $("key-forget").hidden = false;
    $("key-forget").hidden = !state.key;
    const who = state.signIn ? "Signed in as " + signedInAs() : "";
    const key = state.key ? "Using key " + state.key.split("_").slice(0, 2).join("_") + "_…" : "";
    $("who").textContent = [who, key].filter(Boolean).join(" · ");
    $("app").hidden = false;
    showTotals(totals);
    await loadCategories();
    await loadGallery(true);
    // The album names the viewer shows (and "Add to album" offers).
    loadAlbums().catch(() => {});
  } catch (error) {
    // A refused key shows the key form; no answer shows the offline notice (and this runs again once back).
    if (!(error instanceof ApiError) || ![0, 401, 403].includes(error.status)) say("Error: " + error.message);
  }
}

function showTotals(t) {
  $("totals").textContent = `${t.images} image(s), ${bytes(t.bytes_stored)} stored, ${bytes(t.bytes_saved)} saved`;
}

// --- upload ------------------------------------------------------------------------------------------------
// SHA-256 for pages served over plain http to another machine, where crypto.subtle does not exist.
const SHA256_K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

function sha256Fallback(bytes) {
  const hash = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bytes.length / 0x20000000));
  view.setUint32(padded.length - 4, (bytes.length << 3) >>> 0);
  const w = new Uint32Array(64);
  const rotr = (x, n) => (x >>> n) | (x << (32 - n));
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(offset + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    let [a, b, c, d, e, f, g, h] = hash;
    for (let i = 0; i < 64; i++) {
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA256_K[i] + w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    hash[0] += a; hash[1] += b; hash[2] += c; hash[3] += d; hash[4] += e; hash[5] += f; hash[6] += g; hash[7] += h;
  }
  return Array.from(hash, (x) => x.toString(16).padStart(8, "0")).join("");
}

async function sha256Hex(file) {
  const data = await file.arrayBuffer();
  if (!globalThis.crypto || !crypto.subtle) return sha256Fallback(new Uint8Array(data));
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function postForm(target, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(target.fields)) form.append(name, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", target.url);
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let code = "Http." + xhr.status;
      let detail = xhr.statusText;
      try {
        const problem = JSON.parse(xhr.responseText);
        code = problem.code || code;
        detail = problem.detail || detail;
      } catch (_) {
        // S3 answers XML: <Code> and <Message>.
        const xml = new DOMParser().parseFromString(xhr.responseText || "<x/>", "application/xml");
        code = xml.querySelector("Code")?.textContent || code;
        detail = xml.querySelector("Message")?.textContent || detail;
      }
      reject(new ApiError(xhr.status, code, detail));
    };
    xhr.onerror = () => { goOffline(); reject(new ApiError(0, "Client.Offline", "network error during upload")); };
    xhr.send(form);
  });
}

// Browsers leave the type empty for formats they do not know (HEIC, often AVIF): use the extension then.
const TYPES_BY_EXTENSION = {
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", webp: "image/webp", gif: "image/gif", tif: "image/tiff",
  tiff: "image/tiff", bmp: "image/bmp", heic: "image/heic", heif: "image/heif", avif: "image/avif",
};

function contentType(file) {
  if (file.type) return file.type;
  const extension = file.name.includes(".") ? file.name.split(".").pop().toLowerCase() : "";
  return TYPES_BY_EXTENSION[extension] || "application/octet-stream";
}

// --- the upload panel: one row per file under batch totals (files, done, failed, duplicates, bytes) ---------
// A row's outcome: "working" (hashing, asking, sending), "processing" (the pipeline has it), "done" (ready),
// "failed", "duplicate".
const ROW_FINAL = new Set(["done", "failed", "duplicate"]);
// Attempts of one file while the server is away (each waits until it answers again).
const UPLOAD_ATTEMPTS = 5;

function setRow(row, outcome, text) {
  row.dataset.outcome = outcome;
  const status = row.querySelector(".status");
  status.textContent = text;
  status.className = "status" + (outcome === "failed" ? " error" : outcome === "duplicate" ? " muted" : "");
  status.title = text;
  showBatchTotals();
}

function showBatchTotals() {
  const rows = [...$("uploads").children];
  const count = (outcome) => rows.filter((row) => row.dataset.outcome === outcome).length;
  const size = rows.reduce((sum, row) => sum + Number(row.dataset.bytes || 0), 0);
  const sent = rows.reduce((sum, row) => sum + Number(row.dataset.sent || 0), 0);
  const busy = rows.length - count("done") - count("failed") - count("duplicate");
  const parts = [`${rows.length} file${rows.length === 1 ? "" : "s"}`, `${count("done")} done`];
  if (busy) parts.push(`${busy} in progress`);
  parts.push(`${count("failed")} failed`, `${count("duplicate")} duplicate${count("duplicate") === 1 ? "" : "s"}`);
  parts.push(sent < size && busy ? `${bytes(sent)} of ${bytes(size)} sent` : bytes(size));
  $("batch-totals").textContent = parts.join(" · ");
  $("batch").hidden = rows.length === 0;
  $("batch").dataset.busy = String(busy > 0);
}

async function uploadOne(file) {
  const bar = el("progress", { max: "1", value: "0" });
  const status = el("span", { class: "status", text: "" });
  const row = el("li", { "data-bytes": String(file.size), "data-sent": "0" }, [
    el("span", { class: "name", text: file.name, title: file.name }), bar, status,
  ]);
  $("uploads").prepend(row);
  setRow(row, "working", "hashing…");
  const progress = (share) => { bar.value = share; row.dataset.sent = String(Math.round(share * file.size)); };
  try {
    const sha256 = await sha256Hex(file);
    // The same bytes twice in one batch: one image, as the CLI says (checked and noted in one go).
    const first = state.batchHashes.get(sha256);
    if (first !== undefined) {
      progress(1);
      return setRow(row, "duplicate", `duplicate: same file as ${first}`);
    }
    state.batchHashes.set(sha256, file.name);
    for (let attempt = 1; ; attempt++) {
      try {
        return await sendOne(file, sha256, row, progress);
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 0 || attempt === UPLOAD_ATTEMPTS) throw error;
        // The server went away: send it again once it is back (a declaration of the same bytes is safe).
        setRow(row, "working", "waiting for the server…");
        progress(0);
        await whenOnline();
      }
    }
  } catch (error) {
    setRow(row, "failed", "failed: " + error.message);
  }
}

async function sendOne(file, sha256, row, progress) {
  setRow(row, "working", "requesting…");
  const answer = await api("POST", "v1/uploads", {
    filename: file.name, content_type: contentType(file), size: file.size, sha256,
  });
  const image = answer.image;
  row.dataset.imageId = image.id;
  if (answer.duplicate) {
    progress(1);
    if (answer.retry) {
      // The same bytes failed before: uploading them again means "try again".
      await api("POST", answer.retry);
      return setRow(row, "processing", "failed before: retrying…");
    }
    if (image.status === "failed" && !(image.failure && image.failure.retryable)) {
      const why = image.failure ? plain(image.failure.code, image.failure.message) : "";
      return setRow(row, "failed", `failed before: ${why} Delete it to upload the file again.`);
    }
    if (!isFinal(image)) return setRow(row, "processing", "already uploaded, processing…");
    return setRow(row, "duplicate", "duplicate: already uploaded");
  }
  state.uploading.add(image.id);
  try {
    setRow(row, "working", "uploading…");
    await postForm(answer.upload, file, (share) => { progress(share); row.querySelector(".status").textContent = Math.round(share * 100) + " %"; showBatchTotals(); });
  } finally {
    state.uploading.delete(image.id);
  }
  progress(1);
  setRow(row, "processing", "uploaded, processing…");
  schedulePoll(0); // the gallery shows it at once, then as it becomes ready
}

async function uploadAll(files) {
  const queue = Array.from(files);
  if (!queue.length) return;
  // A new batch once the last one is over: its rows and totals make way.
  if (![...$("uploads").children].some((row) => !ROW_FINAL.has(row.dataset.outcome))) {
    $("uploads").replaceChildren();
    state.batchHashes.clear();
    // On a phone the totals line is enough: the list opens on demand, the gallery stays in view.
    $("batch").open = !matchMedia("(max-width: 480px)").matches;
  }
  const workers = Array.from({ length: Math.min(3, queue.length) }, async () => {
    while (queue.length) await uploadOne(queue.shift());
  });
  await Promise.all(workers);
  schedulePoll(0);
}

// --- gallery -----------------------------------------------------------------------------------------------
async function loadCategories() {
  const select = $("category");
  const chosen = select.value;
  const { categories } = await api("GET", "v1/categories");
  select.replaceChildren(el("option", { value: "", text: "All" }));
  for (const c of categories) select.append(el("option", { value: c.name, text: `${c.name} (${c.count})` }));
  if (chosen && categories.some((c) => c.name === chosen)) select.value = chosen;
  else if (chosen) await loadGallery(true); // the chosen category has no images left: show them all
}

// The pipeline's states as a card says them (the filter keeps the API's names).
const STATUS_WORDS = {
  awaiting_upload: "waiting for its upload", uploaded: "processing (1 of 3)", compressed: "processing (2 of 3)",
  thumbnailed: "processing (3 of 3)",
};

// How wide a card is drawn: half a phone's width, at most 280 px on a wider screen (auto-fill columns of
// 180 px and more). The browser picks a thumbnail by width from this and the srcset, whatever sizes the
// deployment makes.
const CARD_SIZES = "(max-width: 480px) calc(50vw - 1rem), 280px";

function thumbnailPicture(image) {
  const thumbnails = image.thumbnails || [];
  const props = { class: "thumb", src: image.thumbnail_url, alt: image.filename, loading: "lazy", decoding: "async" };
  if (thumbnails.length) {
    props.srcset = thumbnails.map((t) => `${t.url} ${t.width}w`).join(", ");
    props.sizes = CARD_SIZES;
    props.width = String(thumbnails[0].width);
    props.height = String(thumbnails[0].height);
  }
  return el("img", props);
}

// What a card says of an image's size: its pixels, bytes and format (the duplicates view compares them).
const sizeFacts = (image) => [image.width ? `${image.width}×${image.height}` : "", bytes(image.size), (image.format || "").toUpperCase()]
  .filter(Boolean).join(" · ");

const HEART = { on: "\u2665", off: "\u2661" };

// A card's corner controls: the selection box (top left) and the favorite heart (top right). Their clicks
// are theirs alone: a click anywhere else on the card opens the viewer.
function cornerControls(image) {
  const select = el("input", { type: "checkbox", class: "select", "aria-label": `Select ${image.filename}`, title: "Select (X); Shift+click selects a range" });
  select.checked = state.selected.has(image.id);
  select.addEventListener("click", (event) => { event.stopPropagation(); selectClicked(image.id, select.checked, event.shiftKey); });
  const heart = el("button", {
    type: "button", class: "heart", "aria-pressed": String(Boolean(image.favorite)),
    "aria-label": `Favorite: ${image.filename}`, title: image.favorite ? "Unfavorite (F)" : "Favorite (F)",
    text: image.favorite ? HEART.on : HEART.off,
  });
  heart.addEventListener("click", (event) => { event.stopPropagation(); toggleFavorite(image.id); });
  for (const control of [select, heart]) control.addEventListener("keydown", (event) => { if (event.key === "Enter") event.stopPropagation(); });
  return [select, heart];
}

// ``details``: the size facts under the name, and no categories (the duplicates view).
function card(image, { details = false } = {}) {
  state.images.set(image.id, image);
  const picture = image.thumbnail_url
    ? thumbnailPicture(image)
    : el("div", { class: "placeholder", text: image.status === "failed" ? "failed" : "processing…" });
  const pending = image.status === "failed" && image.failure && image.failure.retryable;
  const caption = el("div", { class: "caption" }, [el("div", { class: "title", text: image.filename, title: image.filename })]);
  // (a ready image's state goes without saying where its sizes are compared)
  if (!details || image.status !== "ready") {
    caption.append(el("div", { class: "status-" + image.status, text: pending ? "failed, retrying…" : STATUS_WORDS[image.status] || image.status }));
  }
  if (details) caption.append(el("div", { class: "facts", text: sizeFacts(image) }), el("div", { class: "muted" }, [timeNode(image.created_at)]));
  else caption.append(el("ul", { class: "chips" }, image.categories.map((c) => el("li", { text: c }))));
  if (image.status === "failed" && image.failure && !pending) {
    const why = plain(image.failure.code, image.failure.message);
    caption.append(el("p", { class: "failure", text: why, title: why }));
    const retry = el("button", { type: "button", class: "retry", text: "Retry" });
    retry.addEventListener("click", (event) => { event.stopPropagation(); retryImage(image, retry); });
    retry.addEventListener("keydown", (event) => event.stopPropagation());
    caption.append(retry);
  }
  const item = el("li", {
    class: "card", tabindex: "0", "data-id": image.id, "data-status": image.status, "data-updated": image.updated_at,
    "data-created": image.created_at, "data-favorite": String(Boolean(image.favorite)),
  }, [picture, ...cornerControls(image), caption]);
  if (details) item.dataset.details = "true";
  item.classList.toggle("selected", state.selected.has(image.id));
  item.addEventListener("click", () => openImage(image.id));
  item.addEventListener("keydown", (event) => { if (event.key === "Enter") openImage(image.id); });
  return item;
}

// The gallery's query: free text (q), category or label, status, and the upload days as the viewer's
// local midnights (from the start of the first day to the end of the last).
function galleryFilters() {
  const filters = [];
  for (const name of ["q", "category", "label", "status"]) { const v = $(name).value.trim(); if (v) filters.push([name, v]); }
  if ($("favorite").checked) filters.push(["favorite", "true"]);
  if ($("from").value) filters.push(["from", new Date($("from").value + "T00:00:00").toISOString()]);
  if ($("to").value) filters.push(["to", new Date($("to").value + "T23:59:59.999").toISOString()]);
  return filters;
}

function noMatch() {
  const q = $("q").value.trim();
  if (q) return `No images match \u201c${q}\u201d` + (galleryFilters().length > 1 ? " with these filters." : ".");
  if ($("favorite").checked && galleryFilters().length === 1) return "No favorites yet: mark an image with its heart (\u2661) to find it here.";
  return galleryFilters().length ? "No images match these filters." : "No images here yet.";
}

async function retryImage(image, button) {
  button.disabled = true;
  try {
    await api("POST", `v1/images/${encodeURIComponent(image.id)}/retry`);
    say(`Retrying ${image.filename}…`);
  } catch (error) {
    button.disabled = false;
    say("Error: " + error.message);
  }
  schedulePoll(0);
}

function galleryParams() {
  const params = new URLSearchParams({ limit: "48" });
  for (const [name, value] of galleryFilters()) params.set(name, value);
  return params;
}

// The first page as it is now. Cards whose image did not change are kept as they are (no flicker, no image
// loaded twice); with "More" pages loaded, the older cards stay below. ``replace``: a new query, drop the rest.
function showFirstPage(items, replace) {
  const gallery = $("gallery");
  const existing = new Map([...gallery.querySelectorAll(":scope > li[data-id]")].map((node) => [node.dataset.id, node]));
  const nodes = items.map((image) => {
    const old = existing.get(image.id);
    if (old && old.dataset.updated === image.updated_at) { state.images.set(image.id, image); return old; }
    return card(image);
  });
  let older = [];
  if (!replace && state.moreLoaded && items.length) {
    const ids = new Set(items.map((image) => image.id));
    const oldest = items[items.length - 1].created_at;
    older = [...existing.values()].filter((node) => !ids.has(node.dataset.id) && node.dataset.created < oldest);
  }
  gallery.replaceChildren(...nodes, ...older);
  if (!gallery.children.length) gallery.append(el("li", { class: "placeholder empty", id: "no-match", text: noMatch() }));
}

// Rows of the upload panel follow their images: ready, failed (in words), still processing.
function updateRows(items) {
  for (const image of items) {
    const row = document.querySelector(`#uploads li[data-image-id="${CSS.escape(image.id)}"]`);
    if (!row || row.dataset.outcome !== "processing" || !isFinal(image)) continue;
    if (image.status === "ready") setRow(row, "done", "ready");
    else setRow(row, "failed", "failed: " + (image.failure ? plain(image.failure.code, image.failure.message) : image.status));
  }
}

const processingRows = () => [...document.querySelectorAll('#uploads li[data-outcome="processing"]')];

// ``reset``: the first page again (a new query, or a refresh); else the next page ("More").
// On any error what is shown stays shown: a server that went away is the offline notice's business.
async function loadGallery(reset, { replace = true } = {}) {
  const params = galleryParams();
  if (!reset && state.cursor) params.set("cursor", state.cursor);
  let page;
  try {
    page = await api("GET", "v1/images?" + params);
  } catch (error) {
    if (error.status !== 0) say("Error: " + error.message);
    return null;
  }
  if (reset) {
    showFirstPage(page.items, replace);
    if (replace) { state.moreLoaded = false; state.cursor = page.next_cursor; }
    else if (!state.moreLoaded) state.cursor = page.next_cursor;
  } else {
    const shown = new Set([...$("gallery").querySelectorAll(":scope > li[data-id]")].map((node) => node.dataset.id));
    $("gallery").querySelector(":scope > li.empty")?.remove();
    for (const image of page.items) if (!shown.has(image.id)) $("gallery").append(card(image));
    state.moreLoaded = true;
    state.cursor = page.next_cursor;
  }
  $("more").hidden = !state.cursor;
  pruneSelection();
  updateRows(page.items);
  if (reset && replace) state.shown = signature(page.items);
  if (!reset || replace) schedulePoll(POLL_FAST_MS, page.items);
  return page;
}

const signature = (items) => items.map((image) => `${image.id}:${image.status}:${image.updated_at}`).join(",");

// One poll: the first page (one request); the category counts and totals only when something changed.
// It runs again soon while images are in progress, slower while nothing changes, not at all when idle.
async function poll() {
  if (state.pollRunning) { state.pollAgain = true; return; }
  state.pollRunning = true;
  try {
    const page = await loadGallery(true, { replace: false });
    if (!page) {
      // Offline: the reconnect resumes polling. Any other error: try again later, slowly.
      if (state.online) schedulePoll(POLL_SLOW_MS);
      return;
    }
    let items = page.items;
    if (processingRows().length && galleryParams().size > 1) {
      // A filter hides some of this batch's images: their rows still want to know.
      const recent = await api("GET", "v1/images?limit=48").catch(() => null);
      if (recent) { updateRows(recent.items); items = items.concat(recent.items); }
    }
    const now = signature(page.items);
    const changed = now !== state.shown;
    state.shown = now;
    if (changed) {
      await loadCategories().catch(() => {});
      await api("GET", "v1/stats").then(showTotals).catch(() => {});
    }
    state.pollDelay = changed || !state.pollDelay ? POLL_FAST_MS : Math.min(state.pollDelay * 2, POLL_SLOW_MS);
    schedulePoll(state.pollDelay, items);
  } finally {
    state.pollRunning = false;
    if (state.pollAgain) { state.pollAgain = false; schedulePoll(0); }
  }
}

// ``items`` given: poll only if one of them (or an upload row) is in progress; none given: poll now anyway.
function schedulePoll(delay, items) {
  clearTimeout(state.polling);
  if (!state.online || $("app").hidden) return;
  const busy = processingRows().length > 0 || state.uploading.size > 0;
  if (items && !busy && !items.some(inProgress)) { state.pollDelay = 0; return; }
  if (delay === 0) state.pollDelay = 0;
  state.polling = setTimeout(poll, delay);
}

// --- one image: the viewer ----------------------------------------------------------------------------------
// Dates as the browser's locale writes them ("1 Dec 2026, 14:05"), the exact value in the title.
const DATE_TIME = { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" };
const humanDate = (date) => date.toLocaleString(undefined, DATE_TIME);

function timeNode(iso, text) {
  return el("time", { datetime: iso, title: iso, text: text || humanDate(new Date(iso)) });
}

// A camera writes its local time (with its offset when it knows it): shown as written, not moved to this
// browser's zone.
function takenAt(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(iso);
  if (!m) return el("span", { text: iso });
  return timeNode(iso, humanDate(new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])));
}

function shutter(seconds) {
  if (seconds >= 1) return `${+seconds.toFixed(1)} s`;
  return `1/${Math.round(1 / seconds)} s`;
}

// The EXIF panel: only what the camera recorded, in the order a photographer reads it.
function exifRows(exif) {
  const rows = [];
  const add = (term, value) => { if (value) rows.push(el("dt", { text: term }), el("dd", {}, [value])); };
  if (exif.taken_at) add("Taken", takenAt(exif.taken_at));
  const make = exif.make || "";
  const model = exif.model || "";
  add("Camera", model.toLowerCase().startsWith(make.toLowerCase()) ? model : [make, model].filter(Boolean).join(" "));
  const lensMake = exif.lens_make || "";
  const lens = exif.lens || "";
  add("Lens", !lensMake || lens.toLowerCase().startsWith(lensMake.toLowerCase()) ? lens : `${lensMake} ${lens}`.trim());
  const exposure = [
    exif.exposure_time ? shutter(exif.exposure_time) : "",
    exif.f_number ? `ƒ/${+exif.f_number.toFixed(1)}` : "",
    exif.iso ? `ISO ${exif.iso}` : "",
    exif.focal_length ? `${+exif.focal_length.toFixed(1)} mm` + (exif.focal_length_35mm ? ` (${exif.focal_length_35mm} mm equiv.)` : "") : "",
  ].filter(Boolean).join(" · ");
  add("Exposure", exposure);
  return rows;
}

// What a saving says: a share saved, or how much larger a rendition came out (never a negative saving).
function savingText(saving) {
  if (saving === null || saving === undefined) return "";
  const percent = Math.round(Math.abs(saving) * 100);
  if (saving >= 0) return `${percent} % smaller`;
  return percent ? `+${percent} % (larger than the original)` : "about the same size";
}

// The renditions a person asks for: the compressed image and the thumbnails (the labeler's preview is internal).
const USER_RENDITION = (r) => r.name === "compressed" || r.name.startsWith("thumb-");

// The cards of the view shown (the gallery, an album, the duplicates), in order: what previous/next walk
// over and what "Select all" selects.
const shownCards = () => [...document.querySelectorAll("#app li.card[data-id]")].filter((node) => !node.closest("[hidden]"));
const galleryIds = () => [...new Set(shownCards().map((node) => node.dataset.id))];

function setZoom(mode, at) {
  const stage = $("v-stage");
  const image = $("v-image");
  if (mode === "actual" && !image.naturalWidth) return;
  // Keep the point under the pointer (or the centre) where it was.
  const rect = image.getBoundingClientRect();
  const fx = at && rect.width ? (at.x - rect.left) / rect.width : 0.5;
  const fy = at && rect.height ? (at.y - rect.top) / rect.height : 0.5;
  stage.dataset.zoom = mode;
  $("v-zoom").setAttribute("aria-pressed", String(mode === "actual"));
  $("v-zoom").textContent = mode === "actual" ? "Fit" : "1:1";
  if (mode === "actual") {
    stage.scrollLeft = fx * image.naturalWidth - stage.clientWidth / 2;
    stage.scrollTop = fy * image.naturalHeight - stage.clientHeight / 2;
  }
}

const toggleZoom = (at) => setZoom($("v-stage").dataset.zoom === "actual" ? "fit" : "actual", at);

// Drag pans at 1:1 (scrolling does too); a click without a drag toggles the zoom.
function wireStage() {
  const stage = $("v-stage");
  let drag = null;
  stage.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY, left: stage.scrollLeft, top: stage.scrollTop, moved: false };
  });
  stage.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
    if (drag.moved && stage.dataset.zoom === "actual") {
      stage.setPointerCapture?.(event.pointerId);
      stage.classList.add("dragging");
      stage.scrollLeft = drag.left - dx;
      stage.scrollTop = drag.top - dy;
    }
  });
  const end = () => { stage.classList.remove("dragging"); };
  stage.addEventListener("pointerup", (event) => {
    const click = drag && !drag.moved;
    drag = null;
    end();
    if (click && event.target === $("v-image")) toggleZoom({ x: event.clientX, y: event.clientY });
  });
  stage.addEventListener("pointercancel", () => { drag = null; end(); });
}

async function step(offset) {
  const ids = galleryIds();
  const index = state.current ? ids.indexOf(state.current.id) : -1;
  const next = ids[index + offset];
  if (index < 0 || next === undefined) return;
  await openImage(next);
}

async function openImage(id) {
  let image;
  try { image = await api("GET", "v1/images/" + encodeURIComponent(id)); } catch (error) { return say("Error: " + error.message); }
  state.current = image;
  $("v-name").textContent = image.filename;
  $("v-name").title = image.filename;
  const ids = galleryIds();
  const index = ids.indexOf(image.id);
  $("v-prev").disabled = index <= 0;
  $("v-next").disabled = index < 0 || index >= ids.length - 1;
  $("v-position").textContent = index >= 0 ? `${index + 1} of ${ids.length}` : "";
  const dims = image.width ? `${image.width}×${image.height}` : "";
  const facts = [STATUS_WORDS[image.status] || image.status, image.format || image.content_type, dims, bytes(image.size)].filter(Boolean);
  $("v-meta").replaceChildren(facts.join(" · "), facts.length ? " · uploaded " : "uploaded ", timeNode(image.created_at));
  // The compressed rendition at full resolution (fit to the screen, or 1:1); a thumbnail until there is one.
  const renditions = (image.renditions || []).filter(USER_RENDITION);
  const compressed = renditions.find((r) => r.name === "compressed");
  const largestThumb = renditions.filter((r) => r.name.startsWith("thumb-")).sort((a, b) => b.width - a.width)[0];
  const shown = compressed || largestThumb;
  setZoom("fit");
  $("v-stage").hidden = !shown;
  if (shown) {
    $("v-image").src = shown.url;
    $("v-image").alt = image.filename;
    $("v-image").width = shown.width;
    $("v-image").height = shown.height;
  } else {
    $("v-image").removeAttribute("src");
  }
  $("v-zoom").disabled = !shown;
  const download = $("v-download");
  download.hidden = !compressed;
  if (compressed) {
    const base = image.filename.replace(/\.[^.]*$/, "");
    download.href = compressed.url;
    download.setAttribute("download", `${base}.${compressed.format === "jpeg" ? "jpg" : compressed.format}`);
    download.textContent = `Download the image (${compressed.format.toUpperCase()}, ${compressed.width}×${compressed.height}, ${bytes(compressed.bytes)})`;
  }
  $("v-failure").hidden = !image.failure;
  if (image.failure) $("v-failure").textContent = `Failed in ${image.failure.step}: ${plain(image.failure.code, image.failure.message)}`;
  $("v-original").replaceChildren(...originalNote(image));
  const exif = exifRows(image.exif || {});
  $("v-exif-panel").hidden = !exif.length;
  $("v-exif").replaceChildren(...exif);
  $("v-tag-note").textContent = "";
  showOrganized(image);
  $("v-renditions").tBodies[0].replaceChildren(...renditions.map((r) => el("tr", { "data-name": r.name }, [
    el("td", {}, [el("a", { href: r.url, target: "_blank", rel: "noopener noreferrer", text: r.name })]),
    el("td", { text: r.format }),
    el("td", { text: `${r.width}×${r.height}` }),
    el("td", { text: bytes(r.bytes) }),
    el("td", { class: r.saving < 0 ? "larger" : "", text: savingText(r.saving) }),
  ])));
  if (!$("viewer").open) $("viewer").showModal();
}

// The viewer's organizing parts, redrawn from every answer: the heart, the selection, the categories, the
// labels and own tags (each removable), the albums, and the album actions when opened from an album.
function showOrganized(image) {
  const heart = $("v-favorite");
  heart.setAttribute("aria-pressed", String(Boolean(image.favorite)));
  heart.title = image.favorite ? "Unfavorite (F)" : "Favorite (F)";
  heart.textContent = image.favorite ? HEART.on : HEART.off;
  showViewerSelection();
  $("v-categories").replaceChildren(...image.categories.map((c) => el("li", { text: c })));
  if (!image.categories.length) $("v-categories").append(el("li", { class: "none", text: "none" }));
  $("v-labels").replaceChildren(...tagChips(image));
  const albums = (image.albums || []).map((id) => (state.albums || []).find((album) => album.album_id === id)).filter(Boolean);
  $("v-albums-panel").hidden = !albums.length;
  $("v-albums").replaceChildren(...albums.map((album) => el("li", { text: album.name })));
  const album = openAlbumId();
  const inAlbum = Boolean(album) && (image.albums || []).includes(album);
  $("v-cover").hidden = !inAlbum;
  $("v-unalbum").hidden = !inAlbum;
}

function showViewerSelection() {
  if (!state.current) return;
  const on = state.selected.has(state.current.id);
  $("v-select").setAttribute("aria-pressed", String(on));
  $("v-select").textContent = on ? "Selected" : "Select";
}

// One chip per label the model gave (with its confidence) and per own tag, each with its remove button.
function tagChips(image) {
  const own = new Set((image.user_tags || []).map(normalTag));
  const chips = image.labels.filter((l) => !own.has(normalTag(l.name))).map((l) => tagChip(image, l.name, "label", {
    score: `${Math.round(l.confidence)} %`,
    title: `Given by the model (${l.confidence.toFixed(1)} % sure)` + (l.parents.length ? `; a kind of ${l.parents.join(", ")}` : ""),
    remove: `Remove the label ${l.name}: it is wrong`,
  }));
  for (const tag of image.user_tags || []) {
    chips.push(tagChip(image, tag, "own", { title: "Your tag", remove: `Remove your tag ${tag}` }));
  }
  if (!chips.length) chips.push(el("li", { class: "none", text: "none" }));
  return chips;
}

function tagChip(image, name, kind, { score = "", title, remove }) {
  const button = el("button", { type: "button", class: "remove", "aria-label": remove, title: remove, text: "\u00d7" });
  button.addEventListener("click", () => editTags(image.id, { remove_tags: [name] }, `Removed \u201c${name}\u201d.`));
  const parts = [el("span", { class: "name", text: name })];
  if (score) parts.push(" ", el("span", { class: "score", text: score }));
  return el("li", { class: kind, "data-tag": name, title }, [...parts, button]);
}

// Tags compare as the server compares them: spaces collapsed, case folded.
const normalTag = (tag) => tag.split(/\s+/).filter(Boolean).join(" ").toLowerCase();

// The image as an answer shows it, everywhere it is shown: its cards (or their removal from a list it no
// longer belongs to) and the viewer.
function showImage(image) {
  state.images.set(image.id, image);
  for (const node of document.querySelectorAll(`li.card[data-id="${CSS.escape(image.id)}"]`)) {
    const list = node.parentElement;
    if (!CARD_KEEPERS.every((keeps) => keeps(list, image))) { removeCard(node); continue; }
    // The focus stays where it was: on the card, or on the same control of it.
    const focused = node === document.activeElement ? node : node.contains(document.activeElement) ? document.activeElement : null;
    const fresh = card(image, { details: node.dataset.details === "true" });
    node.replaceWith(fresh);
    if (focused === node) fresh.focus();
    else if (focused) (fresh.querySelector("." + focused.classList[0]) || fresh).focus();
  }
  if (state.current && state.current.id === image.id) {
    state.current = { ...state.current, ...image, renditions: state.current.renditions, original_url: state.current.original_url };
    showOrganized(state.current);
  }
}

// Whether a list still shows an image after a change; organize.js adds the album's.
const CARD_KEEPERS = [(list, image) => !(list.id === "gallery" && $("favorite").checked && !image.favorite)];

// A card leaves its list (deleted, unfavorited under the filter, out of the album); an emptied gallery says so.
function removeCard(node) {
  const list = node.parentElement;
  state.selected.delete(node.dataset.id);
  node.remove();
  if (list && list.id === "gallery" && !list.querySelector(":scope > li[data-id]") && !list.querySelector("#no-match")) {
    list.append(el("li", { class: "placeholder empty", id: "no-match", text: noMatch() }));
  }
  document.dispatchEvent(new CustomEvent("cardremoved", { detail: { list, id: node.dataset.id } }));
}

async function editImage(id, change) {
  return api("PATCH", "v1/images/" + encodeURIComponent(id), change);
}

async function toggleFavorite(id) {
  const image = state.current && state.current.id === id ? state.current : state.images.get(id);
  if (!image) return;
  try {
    showImage(await editImage(id, { favorite: !image.favorite }));
  } catch (error) {
    say("Error: " + error.message);
  }
}

// Whether the edit was made; the viewer's note says what it did, or why not.
async function editTags(id, change, done) {
  const note = $("v-tag-note");
  try {
    showImage(await editImage(id, change));
    note.textContent = done;
    return true;
  } catch (error) {
    note.textContent = error.message;
    return false;
  }
}

async function addTagFromViewer(event) {
  event.preventDefault();
  const input = $("v-tag-input");
  const tag = input.value.split(/\s+/).filter(Boolean).join(" ");
  if (!tag || !state.current) return;
  if (await editTags(state.current.id, { add_tags: [tag] }, `Added \u201c${tag}\u201d: a search for it finds this image.`)) input.value = "";
}

// The original is the best copy while it is stored; the originals policy (expire by default) removes it
// once its compressed rendition is verified, and the compressed rendition is then the best copy there is.
function originalNote(image) {
  if (image.original_removed_at) {
    return ["The original was removed on ", timeNode(image.original_removed_at), " (originals policy); the compressed rendition is the best copy."];
  }
  if (!image.original_url) return [];
  const link = el("a", { id: "v-download-original", href: image.original_url, download: image.filename, text: "Download the original" });
  if (!image.original_expires_at) return [link, " (kept: not scheduled for removal)"];
  return [link, " (kept until ", timeNode(image.original_expires_at), "; then the compressed rendition is the best copy)"];
}

// A DELETE whose answer never came (the server or its function died, the network dropped) is sent again
// when the page next loads: the image is already gone from every listing, so nothing else on the page could
// repeat it, and a repeated DELETE removes whatever the first one left (its tombstone names every object).
function pendingDeletes() {
  try {
    const ids = JSON.parse(localStorage.getItem(DELETES_STORAGE) || "[]");
    return Array.isArray(ids) ? ids.filter((id) => typeof id === "string") : [];
  } catch {
    return [];
  }
}

function setPendingDeletes(ids) {
  if (ids.length) localStorage.setItem(DELETES_STORAGE, JSON.stringify(ids));
  else localStorage.removeItem(DELETES_STORAGE);
}

// Answers that a repeat could change: the key (401, 403), a timeout (408), throttling (429).
const RETRIED_REFUSALS = new Set([401, 403, 408, 429]);

async function deleteImage(id) {
  setPendingDeletes([...new Set([...pendingDeletes(), id])]);
  try {
    await api("DELETE", "v1/images/" + encodeURIComponent(id));
  } catch (error) {
    // A server error or no answer: kept for the next load. Any other refusal (404: nothing of it is left
    // for this key) would be answered again.
    const final = error instanceof ApiError && error.status > 0 && error.status < 500 && !RETRIED_REFUSALS.has(error.status);
    if (!final) throw error;
  }
  setPendingDeletes(pendingDeletes().filter((pending) => pending !== id));
}

async function resendPendingDeletes() {
  for (const id of pendingDeletes()) {
    try {
      await deleteImage(id);
    } catch (error) {
      say(`A delete is still pending (sent again on the next load): ${error.message}`);
    }
  }
}

async function deleteCurrent() {
  const image = state.current;
  if (!image || !confirm(`Delete ${image.filename}? The original and every rendition are removed.`)) return;
  try {
    await deleteImage(image.id);
    $("viewer").close();
    say(`Deleted ${image.filename}`);
    // Its cards go from every list shown; the gallery's first page fills up again.
    for (const node of document.querySelectorAll(`li.card[data-id="${CSS.escape(image.id)}"]`)) removeCard(node);
    state.images.delete(image.id);
    showSelection();
    await loadGallery(true, { replace: false });
    await loadCategories();
    showTotals(await api("GET", "v1/stats"));
  } catch (error) {
    say("Error: " + error.message);
  }
}

// --- views: the tabs; each view's script says what to do when it is shown (VIEW_SHOWN) ---------------------
const VIEWS = { gallery: "gallery-view", albums: "albums-view", duplicates: "duplicates-view", dashboard: "dashboard" };
const VIEW_SHOWN = {};
const shownView = () => Object.keys(VIEWS).find((name) => !$(VIEWS[name]).hidden);

function showView(name) {
  if (name !== shownView()) clearSelection();
  for (const [view, panel] of Object.entries(VIEWS)) {
    const on = view === name;
    $(panel).hidden = !on;
    $("tab-" + view).setAttribute("aria-selected", String(on));
    $("tab-" + view).tabIndex = on ? 0 : -1;
  }
  VIEW_SHOWN[name]?.();
}

function wireTabs() {
  const names = Object.keys(VIEWS);
  for (const name of names) $("tab-" + name).addEventListener("click", () => showView(name));
  $("tabs").addEventListener("keydown", (event) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const next = names[(names.indexOf(shownView()) + (event.key === "ArrowRight" ? 1 : names.length - 1)) % names.length];
    showView(next);
    $("tab-" + next).focus();
  });
}

// --- keyboard: / search, ? help, X select, F favorite, Ctrl+A all, Delete, Esc none; in the viewer ←/→
// previous/next, Z zoom, F favorite, T tag, X select (Esc closes any dialog) ---------------------------------
const TEXT_INPUTS = /^(text|search|password|email|number|url|tel|date|datetime-local|month|week|time)$/;

function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.tagName === "INPUT") return TEXT_INPUTS.test(target.type);
  return target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName);
}

const anyDialogOpen = () => [...document.querySelectorAll("dialog")].some((dialog) => dialog.open);
// The card with the focus (on it or on one of its controls).
const focusedCard = () => document.activeElement?.closest?.("li.card[data-id]") || null;

function shortcut(event) {
  if (event.defaultPrevented || typing(event.target)) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if ((event.ctrlKey || event.metaKey) && !event.altKey && key === "a" && !anyDialogOpen() && !$("app").hidden && galleryIds().length) {
    event.preventDefault();
    selectAll();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if ($("help").open || $("tag-dialog").open || $("album-dialog").open) return;
  if ($("viewer").open) {
    if (key === "ArrowLeft") { event.preventDefault(); step(-1); }
    else if (key === "ArrowRight") { event.preventDefault(); step(1); }
    else if (key === "z") toggleZoom();
    else if (key === "f" && state.current) toggleFavorite(state.current.id);
    else if (key === "x" && state.current) toggleSelected(state.current.id);
    else if (key === "t") { event.preventDefault(); $("v-tag-input").focus(); }
    else if (key === "?") $("help").showModal();
    return;
  }
  const focused = focusedCard();
  if (key === "?") { event.preventDefault(); $("help").showModal(); }
  else if (key === "/" && !$("app").hidden && !$("gallery-view").hidden) { event.preventDefault(); $("q").focus(); $("q").select(); }
  else if (key === "x" && focused) { event.preventDefault(); toggleSelected(focused.dataset.id); }
  else if (key === "f" && focused) { event.preventDefault(); toggleFavorite(focused.dataset.id); }
  else if (key === "Delete" && state.selected.size) { event.preventDefault(); bulkDelete(); }
  else if (key === "Escape" && state.selected.size) { event.preventDefault(); clearSelection(); }
}

// --- wiring ------------------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  // The filters beyond the search box show on a wide screen; a phone folds them under "Filters".
  const narrow = matchMedia("(max-width: 480px)");
  $("more-filters").open = !narrow.matches;
  narrow.addEventListener("change", (event) => { $("more-filters").open = !event.matches; });
  // "imgmgr serve" prints a URL with the key in the fragment (never sent to the server): take it, then drop it.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get("key")) {
    state.key = fragment.get("key");
    history.replaceState(null, "", location.pathname + location.search);
  }
  $("key-form").addEventListener("submit", (event) => { event.preventDefault(); useKey($("key-input").value); });
  $("key-forget").addEventListener("click", () => { localStorage.removeItem(KEY_STORAGE); state.key = ""; showKeyForm(); });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => { event.preventDefault(); drop.classList.remove("over"); uploadAll(event.dataTransfer.files); });
  drop.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") $("file-input").click(); });
  $("file-input").addEventListener("change", (event) => { uploadAll(event.target.files); event.target.value = ""; });
  // A query is by category or by label (one index each): choosing one clears the other. Free text and
  // the upload days narrow either.
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    if ($("label").value.trim()) { $("category").value = ""; $("favorite").checked = false; }
    loadGallery(true);
  });
  // Favorites are an index of their own too: the filter clears the category and the label, and they clear it.
  $("category").addEventListener("change", () => {
    if ($("category").value) { $("label").value = ""; $("favorite").checked = false; }
    loadGallery(true);
  });
  $("favorite").addEventListener("change", () => {
    if ($("favorite").checked) { $("category").value = ""; $("label").value = ""; }
    loadGallery(true);
  });
  $("more").addEventListener("click", () => loadGallery(false));
  $("v-delete").addEventListener("click", deleteCurrent);
  $("v-prev").addEventListener("click", () => step(-1));
  $("v-next").addEventListener("click", () => step(1));
  $("v-zoom").addEventListener("click", () => toggleZoom());
  $("v-favorite").addEventListener("click", () => state.current && toggleFavorite(state.current.id));
  $("v-select").addEventListener("click", () => state.current && toggleSelected(state.current.id));
  $("v-tag-form").addEventListener("submit", addTagFromViewer);
  wireTabs();
  wireStage();
  document.addEventListener("keydown", shortcut);
  $("offline-retry").addEventListener("click", () => { $("offline-text").textContent = "Trying again now…"; reconnectNow(2000); });
  $("sign-in").addEventListener("click", () => startSignIn());
  $("sign-out").addEventListener("click", () => signOut());
  loadMessages();
  start();
});

async function start() {
  state.signIn = await loadSignIn();
  if (!state.signIn) {
    if (state.key) useKey(state.key); else showKeyForm();
    return;
  }
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    try {
      await finishSignIn(params);
    } catch (error) {
      return showSignIn("Sign-in failed: " + error.message);
    }
  }
  if (state.tokens) enterSignedIn(); else showSignIn();
}
