// imgmgr organizing: selection and bulk actions over the cards in view, albums, near-duplicates.
// Uses app.js's helpers (api, el, $, state, card, showImage, removeCard, plain); loaded after it.
// Everything shown is set as text.
"use strict";

// The API acts on at most this many images per batch request.
const BATCH_MAX = 100;
// How many images an album or a duplicates page asks for at a time.
const PAGE_SIZE = 48;
const DUPLICATE_GROUPS_PAGE = 20;

// --- selection: click a card's box, shift-click a range, Ctrl+A all in view, Esc none -------------------------
function selectClicked(id, on, range) {
  const ids = galleryIds();
  const from = range && state.anchor !== null ? ids.indexOf(state.anchor) : -1;
  const to = ids.indexOf(id);
  if (from >= 0 && to >= 0) setSelected(ids.slice(Math.min(from, to), Math.max(from, to) + 1), on);
  else setSelected([id], on);
  state.anchor = id;
}

function setSelected(ids, on) {
  for (const id of ids) { if (on) state.selected.add(id); else state.selected.delete(id); }
  showSelection();
}

function toggleSelected(id) {
  setSelected([id], !state.selected.has(id));
  state.anchor = id;
}

function selectAll() {
  const ids = galleryIds();
  if (!ids.length) return;
  setSelected(ids, true);
  say(`${ids.length} image${ids.length === 1 ? "" : "s"} selected.`);
}

// What is selected is what is in view: a new search or a poll that drops a card drops it from the selection
// (an action never reaches an image the owner no longer sees).
function pruneSelection() {
  if (!state.selected.size) return;
  const shown = new Set(galleryIds());
  for (const id of [...state.selected]) if (!shown.has(id)) state.selected.delete(id);
  showSelection();
}

function clearSelection() {
  state.selected.clear();
  state.anchor = null;
  showSelection();
}

// The cards, the viewer's button and the bulk bar follow the selection.
function showSelection() {
  for (const node of document.querySelectorAll("li.card[data-id]")) {
    const on = state.selected.has(node.dataset.id);
    node.classList.toggle("selected", on);
    const box = node.querySelector("input.select");
    if (box) box.checked = on;
  }
  showViewerSelection();
  const count = state.selected.size;
  document.body.classList.toggle("selecting", count > 0);
  $("bulk").hidden = count === 0;
  if (!count) return;
  $("bulk-count").textContent = `${count} selected`;
  const chosen = [...state.selected].map((id) => state.images.get(id)).filter(Boolean);
  $("bulk-favorite").hidden = chosen.length > 0 && chosen.every((image) => image.favorite);
  $("bulk-unfavorite").hidden = !chosen.some((image) => image.favorite);
  const album = openAlbumId();
  $("bulk-unalbum").hidden = !album;
  $("bulk-cover").hidden = !album || count !== 1;
  $("bulk-all").hidden = galleryIds().every((id) => state.selected.has(id));
}

// --- bulk actions: one batch request per 100 images, a result per image ---------------------------------------
// What each action did, and did not do, in words.
const ACTIONS = {
  delete: { done: "deleted", failed: "could not be deleted" },
  favorite: { done: "marked as favorites", failed: "could not be marked as favorites" },
  unfavorite: { done: "no longer favorites", failed: "could not be unmarked" },
  add_tags: { done: "tagged", failed: "could not be tagged" },
  remove_tags: { done: "untagged", failed: "could not be untagged" },
  add_to_album: { done: "added", failed: "could not be added" },
  remove_from_album: { done: "removed", failed: "could not be removed" },
};

const succeeded = (result) => result.status === 200 || result.status === 204;
const plural = (n, word, many = word + "s") => `${n} ${n === 1 ? word : many}`;
const quote = (text) => `\u201c${text}\u201d`;

// The results of each image, and the error of a request that failed as a whole (the images of that request
// and of those after it were not acted on: ``untouched``). ``progress(done)`` after each request.
async function batch(action, ids, extra = {}, progress = () => {}) {
  const results = [];
  for (let start = 0; start < ids.length; start += BATCH_MAX) {
    const chunk = ids.slice(start, start + BATCH_MAX);
    try {
      const answer = await api("POST", "v1/images/batch", { image_ids: chunk, action, ...extra });
      results.push(...answer.results);
      progress(results.length);
    } catch (error) {
      return { results, error, untouched: ids.slice(start) };
    }
  }
  return { results, error: null, untouched: [] };
}

// ``action`` on the selected images (or ``ids``); ``what`` ends the sentences (" to “Holidays”").
async function runBulk(action, extra = {}, { what = "", ids = [...state.selected] } = {}) {
  if (!ids.length) return [];
  const words = ACTIONS[action];
  const names = new Map(ids.map((id) => [id, state.images.get(id)?.filename || id]));
  $("bulk").setAttribute("aria-busy", "true");
  for (const button of $("bulk").querySelectorAll("button")) button.disabled = true;
  if (action === "delete") setPendingDeletes([...new Set([...pendingDeletes(), ...ids])]);
  let answer;
  try {
    answer = await batch(action, ids, extra, (done) => { $("bulk-count").textContent = `${done} of ${ids.length} done…`; });
  } finally {
    $("bulk").removeAttribute("aria-busy");
    for (const button of $("bulk").querySelectorAll("button")) button.disabled = false;
  }
  const { results, error, untouched } = answer;
  const failed = [];
  let done = 0;
  for (const result of results) {
    const gone = action === "delete" && (succeeded(result) || result.status === 404);
    if (action === "delete" && (gone || (result.status > 0 && result.status < 500 && !RETRIED_REFUSALS.has(result.status)))) {
      setPendingDeletes(pendingDeletes().filter((id) => id !== result.image_id));
    }
    if (gone) {
      done++;
      for (const node of document.querySelectorAll(`li.card[data-id="${CSS.escape(result.image_id)}"]`)) removeCard(node);
      state.images.delete(result.image_id);
      state.selected.delete(result.image_id);
    } else if (succeeded(result)) {
      done++;
      state.selected.delete(result.image_id);
      if (result.image) showImage(result.image);
    } else {
      failed.push({ name: names.get(result.image_id), why: result.sentence || plain(result.code, result.message) });
    }
  }
  showSelection();
  const success = done ? `${plural(done, "image")} ${words.done}${what}.` : "";
  if (error) failed.unshift({ name: plural(untouched.length, "image"), why: `${error.message} ${untouchedFate(action, error, untouched)}` });
  report(success, failed, words.failed + what, untouched.length - (error ? 1 : 0));
  if (action === "delete" && done) refreshTotals();
  if (action === "delete" || action.endsWith("_album")) loadAlbums().catch(() => {});
  return results;
}

// A request refused as a whole did nothing. One that got no answer (or a server error) may have: a delete
// is then sent again when the page next loads, as a single one is (app.js, pendingDeletes).
function untouchedFate(action, error, ids) {
  const refused = error.status > 0 && error.status < 500 && !RETRIED_REFUSALS.has(error.status);
  if (action !== "delete") return "They are still selected.";
  if (refused) {
    setPendingDeletes(pendingDeletes().filter((id) => !ids.includes(id)));
    return "Nothing was deleted; they are still selected.";
  }
  return "Their delete is sent again when the page next loads.";
}

// What went right in a passing note; what went wrong, image by image, stays until dismissed. ``more``: images
// counted under one line (a request that failed as a whole) beyond the one the line stands for.
function report(success, failed, failedWords, more = 0) {
  if (success) say(success);
  $("bulk-report").hidden = !failed.length;
  if (!failed.length) return;
  $("bulk-report-text").textContent = `${success ? success + " " : ""}${plural(failed.length + more, "image")} ${failedWords}:`;
  $("bulk-report-list").replaceChildren(...failed.slice(0, 20).map((f) => el("li", {}, [el("strong", { text: f.name }), ": " + f.why])));
  if (failed.length > 20) $("bulk-report-list").append(el("li", { class: "muted", text: `and ${failed.length - 20} more (still selected).` }));
}

async function refreshTotals() {
  await loadCategories().catch(() => {});
  await api("GET", "v1/stats").then(showTotals).catch(() => {});
}

function bulkDelete() {
  const count = state.selected.size;
  if (!count) return;
  const one = count === 1 ? state.images.get([...state.selected][0])?.filename : null;
  const what = one ? one : `these ${count} images`;
  if (!confirm(`Delete ${what}? The original${count === 1 ? "" : "s"} and every rendition are removed.`)) return;
  return runBulk("delete");
}

// --- tags of many: add or remove, from one dialog ---------------------------------------------------------
const splitTags = (text) => [...new Set(text.split(",").map((t) => t.split(/\s+/).filter(Boolean).join(" ")).filter(Boolean))];

function openTagDialog() {
  $("tag-title").textContent = `Tag ${plural(state.selected.size, "selected image")}`;
  $("tag-input").value = "";
  $("tag-dialog").showModal();
  $("tag-input").focus();
}

async function submitTags(event) {
  event.preventDefault();
  const tags = splitTags($("tag-input").value);
  if (!tags.length) return;
  const action = event.submitter && event.submitter.value === "remove_tags" ? "remove_tags" : "add_tags";
  $("tag-dialog").close();
  const quoted = tags.map(quote).join(", ");
  await runBulk(action, { tags }, { what: action === "add_tags" ? ` with ${quoted}` : ` of ${quoted}` });
}

// --- albums ----------------------------------------------------------------------------------------------
// ``pageSize``: the images asked for at a time (a test makes it small to page through a small album).
const albumView = { id: null, cursor: null, pageSize: PAGE_SIZE };
const openAlbumId = () => (albumView.id && !$("album-detail").hidden && !$("albums-view").hidden ? albumView.id : null);
const albumOf = (id) => (state.albums || []).find((album) => album.album_id === id);

// An album's list drops an image that left it.
CARD_KEEPERS.push((list, image) => !(list.id === "album-images" && albumView.id && !(image.albums || []).includes(albumView.id)));

async function loadAlbums() {
  const { items } = await api("GET", "v1/albums");
  state.albums = items;
  showAlbums();
  if (albumView.id && albumOf(albumView.id)) showAlbumHeading(albumOf(albumView.id));
  return items;
}

function albumCount(album) {
  return album.count ? plural(album.count, "image") : "empty";
}

function showAlbums() {
  const list = $("albums");
  const albums = state.albums || [];
  list.replaceChildren(...albums.map((album) => {
    const cover = album.cover_url
      ? el("img", { class: "cover", src: album.cover_url, alt: "", loading: "lazy", decoding: "async" })
      : el("div", { class: "cover placeholder", text: album.count ? "no preview yet" : "empty album" });
    const open = el("button", { type: "button", class: "album-open", "aria-label": `Open the album ${album.name} (${albumCount(album)})` }, [
      cover,
      el("span", { class: "album-name", text: album.name, title: album.name }),
      el("span", { class: "album-count muted", text: albumCount(album) }),
    ]);
    open.addEventListener("click", () => openAlbum(album.album_id));
    return el("li", { class: "album", "data-album-id": album.album_id }, [open]);
  }));
  if (!albums.length) list.append(el("li", { class: "empty muted", text: "No albums yet: create one here, or select images in the gallery and choose \u201cAdd to album\u201d." }));
}

async function createAlbum(name) {
  const album = await api("POST", "v1/albums", { name });
  state.albums = [...(state.albums || []), album].sort((a, b) => a.name.localeCompare(b.name));
  showAlbums();
  return album;
}

function showAlbumList() {
  albumView.id = null;
  $("album-detail").hidden = true;
  $("albums-list").hidden = false;
  $("album-images").replaceChildren();
  clearSelection();
  loadAlbums().catch((error) => { if (error.status !== 0) say("Error: " + error.message); });
}

function showAlbumHeading(album) {
  $("album-name").textContent = album.name;
  $("album-name").title = album.name;
  $("album-count").textContent = albumCount(album);
}

async function openAlbum(id, { more = false } = {}) {
  const album = albumOf(id);
  if (!more) {
    clearSelection();
    albumView.id = id;
    albumView.cursor = null;
    $("albums-list").hidden = true;
    $("album-detail").hidden = false;
    stopRenaming();
    if (album) showAlbumHeading(album);
    $("album-images").replaceChildren();
  }
  const params = new URLSearchParams({ album: id, limit: String(albumView.pageSize) });
  if (more && albumView.cursor) params.set("cursor", albumView.cursor);
  let page;
  try {
    page = await api("GET", "v1/images?" + params);
  } catch (error) {
    if (error.status !== 0) say("Error: " + error.message);
    return;
  }
  if (albumView.id !== id) return;
  const shown = new Set([...$("album-images").children].map((node) => node.dataset.id));
  for (const image of page.items) if (!shown.has(image.id)) $("album-images").append(card(image));
  albumView.cursor = page.next_cursor || page.next || null;
  $("album-more").hidden = !albumView.cursor;
  showAlbumEmpty();
  showSelection();
}

function showAlbumEmpty() {
  const list = $("album-images");
  const empty = list.querySelector(":scope > li.empty");
  if (list.querySelector(":scope > li.card")) { empty?.remove(); return; }
  if (!empty) list.append(el("li", { class: "placeholder empty", text: "This album is empty: select images in the gallery and choose \u201cAdd to album\u201d." }));
}

function startRenaming() {
  const album = albumOf(albumView.id);
  if (!album) return;
  $("album-rename-name").value = album.name;
  $("album-rename").hidden = false;
  $("album-name").hidden = true;
  $("album-rename-start").hidden = true;
  $("album-rename-name").focus();
  $("album-rename-name").select();
}

function stopRenaming() {
  $("album-rename").hidden = true;
  $("album-name").hidden = false;
  $("album-rename-start").hidden = false;
}

async function renameAlbum(event) {
  event.preventDefault();
  const name = $("album-rename-name").value.trim();
  if (!name) return;
  try {
    const album = await api("PATCH", "v1/albums/" + encodeURIComponent(albumView.id), { name });
    state.albums = (state.albums || []).map((a) => (a.album_id === album.album_id ? album : a));
    showAlbumHeading(album);
    stopRenaming();
    say(`Renamed to ${quote(album.name)}.`);
  } catch (error) {
    say("Error: " + error.message);
  }
}

async function deleteAlbum() {
  const album = albumOf(albumView.id);
  if (!album) return;
  const images = album.count ? `Its ${plural(album.count, "image")} stay in your gallery.` : "It is empty.";
  if (!confirm(`Delete the album ${quote(album.name)}? ${images}`)) return;
  try {
    await api("DELETE", "v1/albums/" + encodeURIComponent(album.album_id));
    state.albums = (state.albums || []).filter((a) => a.album_id !== album.album_id);
    say(`Deleted the album ${quote(album.name)}; its images stay.`);
    showAlbumList();
  } catch (error) {
    say("Error: " + error.message);
  }
}

function removeFromAlbum(ids) {
  const album = albumOf(albumView.id);
  return runBulk("remove_from_album", { album_id: albumView.id }, { ids, what: album ? ` from ${quote(album.name)}` : "" });
}

async function setCover(imageId) {
  const album = albumOf(albumView.id);
  if (!album) return;
  try {
    const changed = await api("PATCH", "v1/albums/" + encodeURIComponent(album.album_id), { cover_image_id: imageId });
    state.albums = state.albums.map((a) => (a.album_id === changed.album_id ? changed : a));
    say(`The cover of ${quote(changed.name)} is now ${state.images.get(imageId)?.filename || "this image"}.`);
  } catch (error) {
    say("Error: " + error.message);
  }
}

// "Add to album": pick one of the albums, or name a new one.
async function openAlbumDialog() {
  $("album-dialog-title").textContent = `Add ${plural(state.selected.size, "selected image")} to an album`;
  $("album-dialog-name").value = "";
  const choices = $("album-choices");
  choices.replaceChildren(el("li", { class: "muted", text: "Loading the albums…" }));
  $("album-dialog").showModal();
  let albums;
  try { albums = await loadAlbums(); } catch (error) {
    choices.replaceChildren(el("li", { class: "error", text: error.message }));
    return;
  }
  choices.replaceChildren(...albums.map((album) => {
    const button = el("button", { type: "button", "data-album-id": album.album_id }, [
      el("span", { class: "album-name", text: album.name }), " ", el("span", { class: "muted", text: albumCount(album) }),
    ]);
    button.addEventListener("click", () => addToAlbum(album));
    return el("li", {}, [button]);
  }));
  if (!albums.length) choices.append(el("li", { class: "muted", text: "No albums yet: name the first one below." }));
  else if (document.activeElement !== $("album-dialog-name")) choices.querySelector("button").focus();
}

async function addToAlbum(album) {
  $("album-dialog").close();
  await runBulk("add_to_album", { album_id: album.album_id }, { what: ` to ${quote(album.name)}` });
}

async function createAndAdd(event) {
  event.preventDefault();
  const name = $("album-dialog-name").value.trim();
  if (!name) return;
  let album;
  try { album = await createAlbum(name); } catch (error) { say("Error: " + error.message); return; }
  await addToAlbum(album);
}

// --- near-duplicates: groups side by side, the extra copies selectable in one go --------------------------
const duplicatesView = { cursor: null, loaded: false };

// The copy worth keeping: the most pixels, then the most bytes, then the first uploaded.
function bestCopy(images) {
  return [...images].sort((a, b) => (b.width * b.height || 0) - (a.width * a.height || 0) || (b.size || 0) - (a.size || 0)
    || String(a.created_at).localeCompare(String(b.created_at)))[0];
}

async function loadDuplicates(more = false) {
  const note = $("dup-note");
  const params = new URLSearchParams({ limit: String(DUPLICATE_GROUPS_PAGE) });
  if (more && duplicatesView.cursor) params.set("cursor", duplicatesView.cursor);
  if (!more) { note.textContent = "Looking for near-duplicates…"; }
  let page;
  try {
    page = await api("GET", "v1/duplicates?" + params);
  } catch (error) {
    if (error.status === 404 && error.code === "Route.NotFound") note.textContent = "This server does not look for near-duplicates yet.";
    else if (error.status !== 0) note.textContent = "The near-duplicates could not be loaded: " + error.message;
    return;
  }
  if (!more) { $("dup-groups").replaceChildren(); clearSelection(); }
  for (const group of page.groups) showGroup(group);
  duplicatesView.cursor = page.next || page.next_cursor || null;
  duplicatesView.loaded = true;
  $("dup-more").hidden = !duplicatesView.cursor;
  showDuplicatesNote();
}

function showGroup(group) {
  if (group.images.length < 2 || $("dup-groups").querySelector(`[data-group="${CSS.escape(group.group_id)}"]`)) return;
  const best = bestCopy(group.images);
  const list = el("ul", { class: "cards dup-cards" }, group.images.map((image) => {
    const node = card(image, { details: true });
    if (image.id === best.id) node.querySelector(".caption").prepend(el("span", { class: "badge", text: "largest" }));
    return node;
  }));
  $("dup-groups").append(el("section", { class: "dup-group", "data-group": group.group_id }, [
    el("h3", { text: `${group.images.length} copies of ${best.filename}` }), list,
  ]));
}

function showDuplicatesNote() {
  const groups = $("dup-groups").querySelectorAll(".dup-group").length;
  $("dup-extras").hidden = groups === 0;
  $("dup-note").textContent = groups ? `${plural(groups, "group")} of near-duplicates${duplicatesView.cursor ? " so far" : ""}.`
    : "No near-duplicates: every photo here is one of a kind.";
}

// Every copy but the best one of each group shown.
function selectExtraCopies() {
  const extras = [];
  for (const list of $("dup-groups").querySelectorAll(".dup-cards")) {
    const images = [...list.querySelectorAll("li.card")].map((node) => state.images.get(node.dataset.id)).filter(Boolean);
    const best = bestCopy(images);
    extras.push(...images.filter((image) => image !== best).map((image) => image.id));
  }
  setSelected(extras, true);
  say(`${plural(extras.length, "extra copy", "extra copies")} selected: the largest of each group is left out.`);
}

// A group of one is no longer a group of duplicates.
document.addEventListener("cardremoved", ({ detail }) => {
  const group = detail.list && detail.list.closest(".dup-group");
  if (group && detail.list.querySelectorAll("li.card").length < 2) {
    for (const node of detail.list.querySelectorAll("li.card")) state.selected.delete(node.dataset.id);
    group.remove();
    showDuplicatesNote();
  }
  if (detail.list && detail.list.id === "album-images") {
    const album = albumOf(albumView.id);
    showAlbumEmpty();
    if (album) showAlbumHeading({ ...album, count: Math.max(0, album.count - 1) });
  }
});

// --- wiring ------------------------------------------------------------------------------------------------
VIEW_SHOWN.albums = () => { if (!openAlbumId()) showAlbumList(); };
VIEW_SHOWN.duplicates = () => loadDuplicates(false);

document.addEventListener("DOMContentLoaded", () => {
  $("bulk-all").addEventListener("click", selectAll);
  $("bulk-clear").addEventListener("click", clearSelection);
  $("bulk-delete").addEventListener("click", bulkDelete);
  $("bulk-favorite").addEventListener("click", () => runBulk("favorite"));
  $("bulk-unfavorite").addEventListener("click", () => runBulk("unfavorite"));
  $("bulk-tag").addEventListener("click", openTagDialog);
  $("bulk-album").addEventListener("click", openAlbumDialog);
  $("bulk-unalbum").addEventListener("click", () => removeFromAlbum([...state.selected]));
  $("bulk-cover").addEventListener("click", () => setCover([...state.selected][0]));
  $("bulk-report-close").addEventListener("click", () => { $("bulk-report").hidden = true; });
  $("tag-form").addEventListener("submit", submitTags);
  $("album-dialog-new").addEventListener("submit", createAndAdd);
  $("album-new").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("album-new-name").value.trim();
    if (!name) return;
    try {
      const album = await createAlbum(name);
      $("album-new-name").value = "";
      say(`Created the album ${quote(album.name)}.`);
    } catch (error) {
      say("Error: " + error.message);
    }
  });
  $("album-back").addEventListener("click", showAlbumList);
  $("album-more").addEventListener("click", () => openAlbum(albumView.id, { more: true }));
  $("album-rename-start").addEventListener("click", startRenaming);
  $("album-rename-cancel").addEventListener("click", stopRenaming);
  $("album-rename").addEventListener("submit", renameAlbum);
  $("album-rename-name").addEventListener("keydown", (event) => { if (event.key === "Escape") { event.preventDefault(); stopRenaming(); } });
  $("album-delete").addEventListener("click", deleteAlbum);
  $("dup-extras").addEventListener("click", selectExtraCopies);
  $("dup-more").addEventListener("click", () => loadDuplicates(true));
  $("v-cover").addEventListener("click", () => state.current && setCover(state.current.id));
  $("v-unalbum").addEventListener("click", async () => {
    if (!state.current) return;
    const [result] = await removeFromAlbum([state.current.id]);
    if (result && succeeded(result)) $("viewer").close();
  });
});
