// appfn console: what every page shares. `appfn.api` calls the JSON API with the session cookie
// and the CSRF token; `appfn.toast` shows a short message. No framework, no build step.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  // The platform API answers {"error": "...", "detail": ...}; the Admin API
  // {"error": {"code", "message", "fields"}}.
  function messageOf(status, body) {
    const error = body && body.error;
    if (error && typeof error === "object") return error.message || error.code || `HTTP ${status}`;
    return error || (body && body.message) || `HTTP ${status}`;
  }

  class ApiError extends Error {
    constructor(status, body) {
      super(messageOf(status, body));
      this.status = status;
      this.body = body;
    }
  }

  async function api(method, url, body, options = {}) {
    const headers = { Accept: "application/json", "X-CSRF-Token": csrf(), ...(options.headers || {}) };
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    const text = await response.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    if (!response.ok) throw new ApiError(response.status, parsed);
    return parsed;
  }

  // The API's error body is {"error", "detail"}; detail may list {path, message} violations.
  function describe(error) {
    if (!(error instanceof ApiError)) return String(error && error.message || error);
    const fields = error.body && error.body.error && error.body.error.fields;
    if (fields && typeof fields === "object" && Object.keys(fields).length) {
      return `${error.message}: ` + Object.entries(fields).map(([k, v]) => `${k}: ${[].concat(v).join(", ")}`).join("; ");
    }
    const detail = error.body && error.body.detail;
    if (Array.isArray(detail)) return `${error.message}: ` + detail.map((d) => d.path ? `${d.path}: ${d.message}` : JSON.stringify(d)).join("; ");
    if (detail) return `${error.message}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`;
    return error.message;
  }

  function toast(message, kind = "") {
    const box = document.getElementById("toasts");
    if (!box) return;
    const item = document.createElement("div");
    item.className = `toast ${kind}`;
    item.setAttribute("role", kind === "bad" ? "alert" : "status");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(() => item.remove(), kind === "bad" ? 8000 : 3500);
  }

  function escapeHtml(value) {
    return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  // <form data-confirm="Delete this app?"> asks first.
  document.addEventListener("submit", (event) => {
    const message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  window.appfn = { api, ApiError, describe, toast, escapeHtml, pretty, csrf };
})();
