// imgmgr dashboard: the analytics of a period (GET v1/analytics) as totals and charts (charts.js).
// Uses app.js's helpers (api, el, $, state); loaded after it. Everything shown is set as text.
"use strict";

const Dashboard = (() => {
  // An answer is reused for this long when the same period is shown again (the server caches too).
  const CACHE_MS = 60000;
  const cache = new Map(); // "<key>|<from>|<to>" -> {at, promise}
  const view = { from: null, to: null, data: null, resized: null, width: 0 };

  const todayUtc = () => new Date().toISOString().slice(0, 10);
  const daysBefore = (iso, n) => Charts.isoDay(Charts.parseDay(iso) - n * 86400000);

  // The answer for a period: one request per key and period per minute; a failed one is not kept.
  function fetchPeriod(from, to) {
    const key = `${state.key}|${from}|${to}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.promise;
    const promise = api("GET", "v1/analytics?" + new URLSearchParams({ from, to }));
    cache.set(key, { at: Date.now(), promise });
    promise.catch(() => { if (cache.get(key)?.promise === promise) cache.delete(key); });
    return promise;
  }

  function choosePreset(days) {
    const to = todayUtc();
    $("period-to").value = to;
    $("period-from").value = daysBefore(to, days - 1);
    show();
  }

  function markPreset() {
    const from = $("period-from").value, to = $("period-to").value;
    for (const button of document.querySelectorAll("#period-presets button")) {
      const days = Number(button.dataset.days);
      const pressed = to === todayUtc() && from === daysBefore(to, days - 1);
      button.setAttribute("aria-pressed", String(pressed));
    }
  }

  async function show() {
    const from = $("period-from").value, to = $("period-to").value;
    markPreset();
    const error = $("dash-error");
    if (!from || !to || from > to) {
      error.textContent = "Choose a start day on or before the end day.";
      error.hidden = false;
      $("dashboard").removeAttribute("aria-busy");
      return;
    }
    error.hidden = true;
    $("dashboard").setAttribute("aria-busy", "true");
    // A later choice may be answered first: show only what answers the period still chosen.
    const current = () => $("period-from").value === from && $("period-to").value === to;
    try {
      const data = await fetchPeriod(from, to);
      if (!current()) return;
      view.data = data;
      draw();
    } catch (failure) {
      if (!current()) return;
      error.textContent = "The analytics could not be loaded: " + failure.message;
      error.hidden = false;
    } finally {
      if (current()) $("dashboard").removeAttribute("aria-busy");
    }
  }

  // --- drawing ---------------------------------------------------------------------------------------------
  const rowsOf = (data, name) => (data.figures[name] && data.figures[name].rows) || [];
  const descriptionOf = (data, name) => (data.figures[name] && data.figures[name].description) || "";
  const sum = (rows, key) => rows.reduce((total, row) => total + (Number(row[key]) || 0), 0);

  function totals(data) {
    const uploads = rowsOf(data, "uploads_per_day");
    const saved = rowsOf(data, "bytes_saved");
    const states = Object.fromEntries(rowsOf(data, "image_states").map((row) => [row.state, Number(row.images) || 0]));
    const views = rowsOf(data, "views_and_searches");
    const bytesIn = sum(saved, "bytes_in");
    // Never a negative saving: an image that grew is stored as it was (the pipeline keeps the smaller).
    const bytesSaved = Math.max(0, sum(saved, "bytes_saved"));
    const share = bytesIn > 0 ? Math.min(1, bytesSaved / bytesIn) : null;
    return [
      { name: "uploads", label: "Uploads", value: Charts.count(sum(uploads, "uploads")) },
      { name: "ready", label: "Ready", value: Charts.count(states.ready || 0) },
      { name: "failed", label: "Failed", value: Charts.count(states.failed || 0) },
      { name: "deleted", label: "Deleted", value: Charts.count(states.deleted || 0) },
      ...(states.processing ? [{ name: "processing", label: "Processing", value: Charts.count(states.processing) }] : []),
      { name: "bytes-uploaded", label: "Bytes uploaded", value: Charts.bytes(sum(uploads, "bytes_uploaded")) },
      {
        name: "bytes-saved", label: "Bytes saved", value: Charts.bytes(bytesSaved),
        note: share === null ? "nothing processed" : `${Charts.percent(share)} of ${Charts.bytes(bytesIn)} processed`,
      },
      {
        name: "views-searches", label: "Views / searches",
        value: `${Charts.count(sum(views, "views"))} / ${Charts.count(sum(views, "searches"))}`,
      },
    ];
  }

  const plural = (n, one, many = one + "s") => `${Charts.count(n)} ${n === 1 ? one : many}`;

  // The row with the most of ``key`` (the first of equals).
  const top = (rows, key) => rows.reduce((best, row) => ((Number(row[key]) || 0) > (Number(best[key]) || 0) ? row : best), rows[0]);

  function dayTotal(rows, key, format) {
    const total = sum(rows, key);
    if (!total) return "";
    const most = top(rows, key);
    return `${format(total)} in all, most on ${Charts.dayTitle(most.day)} (${format(Number(most[key]))})`;
  }

  function peak(rows, key, per) {
    if (!rows.length) return "";
    const most = top(rows, key);
    return `up to ${Charts.count(Number(most[key]) || 0)} ${per}, on ${Charts.dayTitle(most.day)}`;
  }

  function specs(data) {
    const period = { from: data.from, to: data.to };
    const uploads = rowsOf(data, "uploads_per_day");
    const saved = rowsOf(data, "bytes_saved");
    const active = rowsOf(data, "active_users");
    const traffic = rowsOf(data, "views_and_searches");
    const rank = (name, labelKey, valueKey, extra = () => undefined) =>
      rowsOf(data, name).map((row) => ({ label: row[labelKey], value: row[valueKey], note: extra(row) }));
    const count = Charts.count, size = (n) => Charts.bytes(n);
    return [
      {
        name: "uploads", chart: "dayBars", title: "Uploads per day", ...period, rows: uploads,
        series: [{ key: "uploads", label: "uploads" }], description: descriptionOf(data, "uploads_per_day"),
        summary: dayTotal(uploads, "uploads", count), empty: "No uploads in this period",
      },
      {
        name: "bytes-uploaded", chart: "dayBars", title: "Bytes uploaded per day", ...period, rows: uploads, kind: "bytes",
        series: [{ key: "bytes_uploaded", label: "uploaded" }], description: descriptionOf(data, "uploads_per_day"),
        summary: dayTotal(uploads, "bytes_uploaded", size), empty: "No uploads in this period",
      },
      {
        name: "bytes-saved", chart: "dayBars", title: "Bytes saved per day", ...period, rows: saved, kind: "bytes",
        series: [{ key: "bytes_saved", label: "saved" }], description: descriptionOf(data, "bytes_saved"),
        summary: dayTotal(saved, "bytes_saved", size), empty: "No images processed in this period",
      },
      {
        name: "active-users", chart: "dayBars", title: "Active users per day", ...period, rows: active,
        series: [{ key: "active_users", label: "active users" }], description: descriptionOf(data, "active_users"),
        summary: peak(active, "active_users", "a day"),
        empty: "No activity in this period",
      },
      {
        name: "views-searches", chart: "dayBars", title: "Views and searches per day", ...period, rows: traffic,
        series: [{ key: "views", label: "views" }, { key: "searches", label: "searches" }],
        description: descriptionOf(data, "views_and_searches"),
        summary: `${plural(sum(traffic, "views"), "view")}, ${plural(sum(traffic, "searches"), "search", "searches")}`,
        empty: "No views or searches in this period",
      },
      {
        name: "categories", chart: "rankBars", title: "Popular categories", unit: "images",
        rows: rank("popular_categories", "category", "images", (r) => `${count(r.owners)} owner(s)`),
        description: descriptionOf(data, "popular_categories"), summary: "top 10, images per category",
        empty: "No categorized images in this period",
      },
      {
        name: "labels", chart: "rankBars", title: "Popular labels", unit: "images",
        rows: rank("popular_labels", "label", "images", (r) => `${count(r.owners)} owner(s)`),
        description: descriptionOf(data, "popular_labels"), summary: "top 10, images per label",
        empty: "No labelled images in this period",
      },
      {
        name: "failures", chart: "rankBars", title: "Failures by code", unit: "failures",
        rows: rank("failures_by_code", "code", "failures", (r) => (r.last_seen ? "last " + String(r.last_seen).slice(0, 16).replace("T", " ") : undefined)),
        description: descriptionOf(data, "failures_by_code"), summary: "failed images per reason code",
        empty: "No failures in this period",
      },
    ];
  }

  // A chart under its heading; an empty one under its heading alone (no legend, no summary of nothing).
  function figure(spec, chart) {
    const caption = el("figcaption", {}, [el("h3", { text: spec.title })]);
    const drawn = !chart.classList.contains("chart-empty");
    if (drawn && spec.summary) caption.append(el("p", { class: "muted", text: spec.summary }));
    if (drawn && spec.series && spec.series.length > 1) {
      caption.append(el("ul", { class: "legend" }, spec.series.map((s, k) =>
        el("li", {}, [el("span", { class: "swatch series-" + k, "aria-hidden": "true" }), s.label]))));
    }
    return el("figure", { class: "chart", "data-chart": spec.name }, [caption, chart]);
  }

  // The inner width of a figure of the grid, in CSS pixels.
  function contentWidth(node) {
    const style = getComputedStyle(node);
    return node.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  }

  function draw() {
    const data = view.data;
    if (!data || $("dashboard").hidden) return;
    $("period-shown").textContent = data.from === data.to
      ? Charts.dayTitle(data.from)
      : `${Charts.dayTitle(data.from)} – ${Charts.dayTitle(data.to)} (${Charts.days(data.from, data.to).length} days)`;
    $("dash-totals").replaceChildren(...totals(data).map((t) => el("div", { class: "total", "data-total": t.name }, [
      el("dt", { text: t.label }),
      el("dd", {}, [el("span", { class: "value", text: t.value }), ...(t.note ? [el("span", { class: "note", text: t.note })] : [])]),
    ])));
    // Each chart is drawn as wide as its box (the viewBox in CSS pixels), so that its text keeps its size
    // on a phone; it still scales with the box should the box change before the next draw.
    const charts = $("dash-charts");
    const all = specs(data);
    const slots = all.map(() => el("figure", { class: "chart" }));
    charts.replaceChildren(...slots);
    view.width = charts.clientWidth;
    all.forEach((spec, i) => {
      const width = Math.max(240, Math.floor(contentWidth(slots[i])));
      slots[i].replaceWith(figure(spec, Charts[spec.chart](spec, width)));
    });
  }

  // --- its tab (app.js switches the views) -----------------------------------------------------------------
  VIEW_SHOWN.dashboard = () => {
    if (!$("period-from").value || !$("period-to").value) return choosePreset(30);
    show();
  };

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("#period-presets button")) {
      button.addEventListener("click", () => choosePreset(Number(button.dataset.days)));
    }
    $("period").addEventListener("submit", (event) => { event.preventDefault(); show(); });
    window.addEventListener("resize", () => {
      clearTimeout(view.resized);
      view.resized = setTimeout(() => { if ($("dash-charts").clientWidth !== view.width) draw(); }, 150);
    });
  });

  return { show, choosePreset, cache };
})();
