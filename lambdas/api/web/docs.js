// The API reference, drawn from the app's own OpenAPI document; no third-party code, works offline.
// Links are relative ("openapi.json" next to "docs"), so the page works at a stage path (/prod/docs) too.
"use strict";

const METHODS = ["get", "post", "put", "patch", "delete"];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function refName(ref) {
  return ref.split("/").pop();
}

// A schema in one line: a link to a named schema, or its type with its items or alternatives.
function typeOf(schema) {
  if (!schema) return el("span", {}, "any");
  if (schema.$ref) return el("a", { href: "#schema-" + refName(schema.$ref) }, refName(schema.$ref));
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    if (schema[key]) {
      const span = el("span", {});
      schema[key].forEach((part, i) => {
        if (i) span.append(key === "allOf" ? " & " : " | ");
        span.append(typeOf(part));
      });
      return span;
    }
  }
  if (schema.type === "array") return el("span", {}, "array of ", typeOf(schema.items));
  let text = schema.type || "object";
  if (schema.format) text += " (" + schema.format + ")";
  if (schema.enum) text += ": " + schema.enum.join(", ");
  const limits = [];
  for (const [key, sign] of [["minimum", ">="], ["maximum", "<="], ["minLength", "length >="], ["maxLength", "length <="]]) {
    if (schema[key] !== undefined) limits.push(sign + " " + schema[key]);
  }
  if (limits.length) text += " [" + limits.join(", ") + "]";
  return el("span", {}, text);
}

function table(headings, rows) {
  const head = el("tr", {}, ...headings.map((h) => el("th", {}, h)));
  return el("table", { class: "docs-table" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

function operation(path, method, op) {
  const id = "op-" + (op.operationId || method + path).replace(/[^A-Za-z0-9_-]/g, "-");
  const section = el("article", { class: "docs-op", id },
    el("h3", {}, el("span", { class: "docs-method docs-" + method }, method.toUpperCase()), " ", el("code", {}, path)),
    op.summary ? el("p", {}, op.summary) : null,
    op.description ? el("p", { class: "muted docs-description" }, op.description) : null);
  const params = op.parameters || [];
  if (params.length) {
    section.append(el("h4", {}, "Parameters"), table(["name", "in", "required", "type", "description"],
      params.map((p) => el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in),
        el("td", {}, p.required ? "yes" : "no"), el("td", {}, typeOf(p.schema)),
        el("td", {}, p.description || (p.schema && p.schema.description) || "")))));
  }
  if (op.requestBody) {
    const body = el("ul", {});
    for (const [type, content] of Object.entries(op.requestBody.content || {})) {
      body.append(el("li", {}, el("code", {}, type), ": ", typeOf(content.schema)));
    }
    section.append(el("h4", {}, "Request body" + (op.requestBody.required ? " (required)" : "")), body);
  }
  const responses = Object.entries(op.responses || {});
  if (responses.length) {
    section.append(el("h4", {}, "Responses"), table(["status", "description", "body"],
      responses.map(([status, r]) => {
        const json = r.content && (r.content["application/json"] || Object.values(r.content)[0]);
        return el("tr", {}, el("td", {}, status), el("td", {}, r.description || ""),
          el("td", {}, json ? typeOf(json.schema) : ""));
      })));
  }
  return [id, section];
}

function schemaSection(name, schema) {
  const section = el("article", { class: "docs-schema", id: "schema-" + name }, el("h3", {}, name));
  if (schema.description) section.append(el("p", { class: "muted docs-description" }, schema.description));
  const required = new Set(schema.required || []);
  const properties = Object.entries(schema.properties || {});
  if (properties.length) {
    section.append(table(["field", "type", "required", "description"],
      properties.map(([field, s]) => el("tr", {}, el("td", {}, el("code", {}, field)), el("td", {}, typeOf(s)),
        el("td", {}, required.has(field) ? "yes" : "no"), el("td", {}, s.description || "")))));
  } else {
    section.append(el("p", {}, typeOf(schema)));
  }
  return section;
}

async function main() {
  const status = document.getElementById("docs-status");
  let spec;
  try {
    const response = await fetch("openapi.json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("the API answered " + response.status);
    spec = await response.json();
  } catch (error) {
    status.textContent = "Could not load openapi.json: " + error.message;
    return;
  }
  status.textContent = (spec.info && spec.info.summary) || "";
  document.title = ((spec.info && spec.info.title) || "API") + " reference";
  const index = document.getElementById("docs-index");
  const operations = document.getElementById("docs-operations");
  const list = el("ul", {});
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const [id, section] = operation(path, method, item[method]);
      operations.append(section);
      list.append(el("li", {}, el("a", { href: "#" + id }, method.toUpperCase() + " " + path)));
    }
  }
  index.append(el("h2", {}, "Operations"), list);
  const schemas = Object.entries((spec.components && spec.components.schemas) || {});
  if (schemas.length) {
    const section = document.getElementById("docs-schemas");
    section.append(el("h2", {}, "Schemas"), ...schemas.map(([name, s]) => schemaSection(name, s)));
  }
}

main();
