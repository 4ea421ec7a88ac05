// imgmgr charts: small inline-SVG bar charts drawn with DOM calls (no library, no markup parsed, no inline
// style: colours come from CSS classes over the page's variables, so the CSP holds and a theme applies).
// Every chart is an <svg role="img"> named by its <title> and <desc>; each bar carries its own <title>.
"use strict";

const Charts = (() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const FONT = 12; // user units; the viewBox is as wide as the chart's box, so a unit is a CSS pixel
  const CHAR = FONT * 0.6; // a generous average glyph width, to lay out labels without measuring
  const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];
  let serial = 0;

  function svg(tag, attrs = {}, children = []) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, String(value));
    }
    for (const child of children) node.append(child);
    return node;
  }

  // --- numbers -----------------------------------------------------------------------------------------------
  const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });
  const count = (n) => whole.format(n);
  const shortCount = (n) => (Math.abs(n) < 10000 ? whole.format(n) : compact.format(n));

  function byteUnit(n) {
    let i = 0;
    while (Math.abs(n) >= 1024 ** (i + 1) && i < BYTE_UNITS.length - 1) i++;
    return i;
  }

  function bytes(n, unit = byteUnit(n)) {
    const scaled = n / 1024 ** unit;
    const digits = unit === 0 || scaled >= 100 || Number.isInteger(scaled) ? 0 : 1;
    return scaled.toLocaleString(undefined, { maximumFractionDigits: digits }) + " " + BYTE_UNITS[unit];
  }

  // A ratio as a whole percentage, or with one decimal below 10 %; null for no ratio.
  function percent(ratio) {
    if (ratio === null || !Number.isFinite(ratio)) return null;
    const value = ratio * 100;
    return value.toLocaleString(undefined, { maximumFractionDigits: value < 10 && value > 0 ? 1 : 0 }) + " %";
  }

  // A round step (1, 2 or 5 times a power of ten) that cuts ``span`` into about ``parts`` parts.
  function niceStep(span, parts) {
    const raw = span / parts;
    const power = 10 ** Math.floor(Math.log10(raw));
    const factor = [1, 2, 5, 10].find((f) => f * power >= raw);
    return factor * power;
  }

  // The value axis from 0 to at least ``max``: ticks at round values in the formatter's own unit
  // (bytes in KiB/MiB steps, counts in whole numbers), each with its label.
  function axis(max, kind) {
    const unit = kind === "bytes" ? byteUnit(max) : 0;
    const scale = kind === "bytes" ? 1024 ** unit : 1;
    const scaled = Math.max(max / scale, kind === "bytes" ? 0 : 1);
    let step = niceStep(scaled || 1, 4);
    if (kind !== "bytes" || unit === 0) step = Math.max(1, step); // no half an upload, no half a byte
    const top = Math.ceil(scaled / step) * step || step;
    const ticks = [];
    for (let v = 0; v <= top + step / 2; v += step) {
      const value = v * scale;
      ticks.push({ value, label: value === 0 ? "0" : kind === "bytes" ? bytes(value, unit) : shortCount(value) });
    }
    return { top: top * scale, ticks };
  }

  // --- days --------------------------------------------------------------------------------------------------
  const DAY_MS = 86400000;
  const parseDay = (iso) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10));
  const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
  const shortDay = new Intl.DateTimeFormat(undefined, { timeZone: "UTC", day: "numeric", month: "short" });
  const longDay = new Intl.DateTimeFormat(undefined, { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" });
  const dayLabel = (iso) => shortDay.format(parseDay(iso));
  const dayTitle = (iso) => longDay.format(parseDay(iso));

  // Every day from ``from`` to ``to`` inclusive, as YYYY-MM-DD.
  function days(from, to) {
    const out = [];
    for (let t = parseDay(from); t <= parseDay(to); t += DAY_MS) out.push(isoDay(t));
    return out;
  }

  // --- frame ---------------------------------------------------------------------------------------------------
  function frame(spec, width, height) {
    const id = "chart-" + ++serial;
    const titleText = spec.title + (spec.summary ? ": " + spec.summary : "");
    const labelled = [svg("title", { id: id + "-title", text: titleText })];
    let labelledBy = id + "-title";
    if (spec.description) {
      labelled.push(svg("desc", { id: id + "-desc", text: spec.description }));
      labelledBy += " " + id + "-desc";
    }
    return svg("svg", {
      class: "chart-svg", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": labelledBy,
      "data-chart": spec.name || "", preserveAspectRatio: "xMinYMin meet",
    }, labelled);
  }

  function empty(text) {
    const note = document.createElement("p");
    note.className = "chart-empty";
    note.textContent = text;
    return note;
  }

  // --- bars per day --------------------------------------------------------------------------------------------
  // ``rows`` list only the days that have data; the others are drawn as zero (no bar). ``series`` are
  // [{key, label}], drawn side by side within a day; ``kind`` is "count" or "bytes".
  function dayBars(spec, width) {
    const { from, to, rows, series, kind = "count" } = spec;
    const format = kind === "bytes" ? (n) => bytes(n) : count;
    const byDay = new Map(rows.map((row) => [row.day, row]));
    const all = days(from, to);
    const value = (day, key) => Math.max(0, Number((byDay.get(day) || {})[key]) || 0);
    const max = Math.max(0, ...all.flatMap((day) => series.map((s) => value(day, s.key))));
    if (max === 0) return empty(spec.empty);

    const height = 220;
    const scale = axis(max, kind);
    const left = Math.ceil(Math.max(...scale.ticks.map((t) => t.label.length)) * CHAR) + 10;
    const margin = { top: 10, right: 8, bottom: 28, left };
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const y = (v) => margin.top + plotH - (v / scale.top) * plotH;
    const band = plotW / all.length;
    const gap = band > 6 ? Math.min(band * 0.2, 6) : 0;
    const barW = Math.max((band - gap) / series.length, 0.5);

    const root = frame(spec, width, height);
    const grid = svg("g", { class: "grid", "aria-hidden": "true" });
    for (const tick of scale.ticks) {
      grid.append(svg("line", { x1: margin.left, x2: width - margin.right, y1: y(tick.value), y2: y(tick.value) }));
      grid.append(svg("text", { x: margin.left - 6, y: y(tick.value) + FONT / 3, "text-anchor": "end", text: tick.label }));
    }
    root.append(grid);

    // Day labels from the last day (the most recent) backwards, each at least a label's width from the
    // next, kept inside the plot at both ends.
    const labelW = dayLabel(all[0]).length * CHAR;
    const every = Math.max(1, Math.ceil((labelW + 14) / band));
    const xAxis = svg("g", { class: "axis", "aria-hidden": "true" });
    xAxis.append(svg("line", { x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0) }));
    let leftmost = Infinity;
    for (let i = all.length - 1; i >= 0; i -= every) {
      const x = margin.left + band * (i + 0.5);
      const text = dayLabel(all[i]);
      const w = text.length * CHAR;
      let anchor = "middle", at = x, start = x - w / 2;
      if (x + w / 2 > width - margin.right) { anchor = "end"; at = width - margin.right; start = at - w; }
      else if (start < margin.left - 4) { anchor = "start"; at = margin.left - 4; start = at; }
      if (start + w + 8 > leftmost) continue;
      leftmost = start;
      xAxis.append(svg("line", { x1: x, x2: x, y1: y(0), y2: y(0) + 4 }));
      xAxis.append(svg("text", { x: at, y: height - 8, "text-anchor": anchor, text }));
    }
    root.append(xAxis);

    const bars = svg("g", { class: "bars" });
    all.forEach((day, i) => {
      series.forEach((s, k) => {
        const v = value(day, s.key);
        if (!v) return;
        // A small non-zero value stays visible: at least one unit tall.
        const top = Math.min(y(v), y(0) - 1);
        const rect = svg("rect", {
          class: "bar series-" + k, x: (margin.left + band * i + gap / 2 + barW * k).toFixed(2), y: top.toFixed(2),
          width: barW.toFixed(2), height: (y(0) - top).toFixed(2), "data-day": day, "data-series": s.key, "data-value": v,
        });
        rect.append(svg("title", { text: `${dayTitle(day)}: ${format(v)} ${s.label}` }));
        bars.append(rect);
      });
    });
    root.append(bars);
    return root;
  }

  // --- horizontal bars -----------------------------------------------------------------------------------------
  // ``rows`` as [{label, value}] (largest first, at most ``top`` of them), a named bar each.
  function rankBars(spec, width) {
    const { kind = "count", unit = "" } = spec;
    const format = kind === "bytes" ? (n) => bytes(n) : count;
    const rows = spec.rows
      .map((row) => ({ label: String(row.label), value: Math.max(0, Number(row.value) || 0), note: row.note }))
      .filter((row) => row.value > 0)
      .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label))
      .slice(0, spec.top || 10);
    if (!rows.length) return empty(spec.empty);

    // Beside its bar while the label fits in two fifths of the width, else above it (a phone).
    const valueW = Math.max(...rows.map((r) => format(r.value).length)) * CHAR + 10;
    const longest = Math.max(...rows.map((r) => r.label.length)) * CHAR + 8;
    const stacked = width < 440 && longest > width * 0.4;
    const labelW = stacked ? 0 : Math.min(longest, Math.floor(width * 0.4));
    const rowH = stacked ? 40 : 26;
    const barH = 18;
    const maxChars = Math.floor(((stacked ? width : labelW) - 8) / CHAR);
    const plotW = width - labelW - valueW;
    const max = Math.max(...rows.map((r) => r.value));
    const height = rows.length * rowH + 4;

    const root = frame(spec, width, height);
    const bars = svg("g", { class: "bars" });
    rows.forEach((row, i) => {
      const top = i * rowH + 2;
      const barTop = top + rowH - barH - 4;
      const w = Math.max(1, (row.value / max) * plotW);
      const shown = row.label.length > maxChars ? row.label.slice(0, Math.max(1, maxChars - 1)) + "…" : row.label;
      const detail = `${row.label}: ${format(row.value)}${unit ? " " + unit : ""}${row.note ? " (" + row.note + ")" : ""}`;
      const group = svg("g", { class: "rank", "data-label": row.label, "data-value": row.value }, [svg("title", { text: detail })]);
      const middle = barTop + barH / 2 + FONT / 3;
      group.append(stacked
        ? svg("text", { class: "rank-label", x: 0, y: top + FONT, text: shown })
        : svg("text", { class: "rank-label", x: labelW - 8, y: middle, "text-anchor": "end", text: shown }));
      group.append(svg("rect", { class: "bar series-0", x: labelW, y: barTop, width: w.toFixed(2), height: barH }));
      group.append(svg("text", { class: "rank-value", x: labelW + w + 6, y: middle, text: format(row.value) }));
      bars.append(group);
    });
    root.append(bars);
    return root;
  }

  return { bytes, count, percent, days, dayLabel, dayTitle, parseDay, isoDay, axis, dayBars, rankBars };
})();
