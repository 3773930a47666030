// appfn console, apps section: the settings schema editor, the app form (POST/PATCH /v1/apps),
// deleting an app. `appfnForms` (field errors next to the named field) is shared with stores.js.
(function () {
  "use strict";

  // --- field errors ---------------------------------------------------------------------------
  // The API names bad fields three ways: a store ValidationError ({"error": "a: m; b[1].c: m",
  // "detail": {"field": "a"}}), a request validation error ({"detail": [{path, message}]}) and the
  // Admin API ({"error": {"message", "fields": {name: [messages]}}}). All become [path, message].
  const PATH = String.raw`[A-Za-z_][\w-]*(?:\[\d+\])*(?:\.[A-Za-z_][\w-]*(?:\[\d+\])*)*`;

  function splitMessage(text) {
    const re = new RegExp(`(?:^|; )(${PATH}): `, "g");
    const marks = [];
    let m;
    while ((m = re.exec(text)) !== null) marks.push({ path: m[1], start: m.index, body: re.lastIndex });
    return marks.map((mark, i) => [mark.path, text.slice(mark.body, i + 1 < marks.length ? marks[i + 1].start : undefined)]);
  }

  function errorsOf(error) {
    const body = error && error.body;
    if (!body || typeof body !== "object") return { message: appfn.describe(error), fields: [] };
    if (body.error && typeof body.error === "object") { // the Admin API's envelope
      const fields = [];
      for (const [name, messages] of Object.entries(body.error.fields || {})) {
        for (const message of [].concat(messages)) fields.push([name, String(message)]);
      }
      return { message: body.error.message || `HTTP ${error.status}`, fields };
    }
    const detail = body.detail;
    if (Array.isArray(detail)) {
      const fields = detail.filter((d) => d && d.path).map((d) => [String(d.path).replace(/\.(\d+)(?=\.|$)/g, "[$1]"), d.message]);
      return { message: body.error || `HTTP ${error.status}`, fields };
    }
    if (detail && typeof detail === "object" && detail.field) {
      let fields = splitMessage(String(body.error || ""));
      if (!fields.length) fields = [[detail.field, String(body.error || "")]];
      return { message: body.error, fields };
    }
    return { message: appfn.describe(error), fields: [] };
  }

  function clearErrors(form) {
    form.querySelectorAll(".field-error[data-generated]").forEach((el) => el.remove());
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const box = form.querySelector("[data-form-error]");
    if (box) { box.textContent = ""; box.classList.add("hidden"); }
  }

  function findField(form, path, aliases) {
    let candidate = aliases ? aliases(path) : path;
    while (candidate) {
      const el = form.querySelector(`[data-field="${CSS.escape(candidate)}"]`);
      if (el) return el;
      const cut = candidate.search(/(\[\d+\]|\.[^.[\]]+)$/);
      if (cut <= 0) break;
      candidate = candidate.slice(0, cut);
    }
    return null;
  }

  function place(el, message) {
    const note = document.createElement("div");
    note.className = "field-error";
    note.dataset.generated = "";
    note.setAttribute("role", "alert");
    note.textContent = message;
    if (el.matches("fieldset, tr")) {
      const anchor = el.matches("tr") ? el.querySelector("td") : el.querySelector("legend");
      (anchor || el).insertAdjacentElement(el.matches("tr") ? "beforeend" : "afterend", note);
    } else {
      el.setAttribute("aria-invalid", "true");
      el.insertAdjacentElement("afterend", note);
    }
  }

  // Show an API error on `form`: each named field's message next to it, the rest on top.
  function showErrors(form, error, aliases) {
    clearErrors(form);
    const { message, fields } = errorsOf(error);
    const unplaced = [];
    for (const [path, text] of fields) {
      const el = findField(form, path, aliases);
      if (el) place(el, text); else unplaced.push(`${path}: ${text}`);
    }
    const box = form.querySelector("[data-form-error]");
    const summary = !fields.length ? message : unplaced.length ? unplaced.join("\n") : "Please correct the fields marked below.";
    if (box) { box.textContent = summary; box.classList.remove("hidden"); }
    const first = form.querySelector("[aria-invalid]");
    if (first) first.focus();
    appfn.toast(fields.length ? "Please correct the fields marked in red." : summary, "bad");
  }

  async function busy(button, work) {
    if (button) button.disabled = true;
    try { return await work(); } finally { if (button) button.disabled = false; }
  }

  window.appfnForms = { errorsOf, splitMessage, clearErrors, showErrors, busy };

  // --- the settings schema editor -------------------------------------------------------------
  const KEYS = ["id", "label", "type", "required", "default", "description"];

  function kindOf(field) {
    return field.type === "string" && field.format ? `string:${field.format}` : (field.type || "string");
  }

  function defaultText(value) {
    if (value === undefined || value === null) return "";
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function parseDefault(kind, text) {
    if (text === "") return undefined;
    if (kind === "boolean") return text === "true" ? true : text === "false" ? false : text;
    if (kind === "number" || kind === "integer") {
      const n = Number(text);
      return text.trim() !== "" && Number.isFinite(n) ? n : text; // the API names what is wrong
    }
    return text;
  }

  function initSchemaEditor(form) {
    const rows = form.querySelector("#schema-rows");
    const template = form.querySelector("#schema-row");
    const empty = form.querySelector("#schema-empty");
    if (!rows || !template) return null;

    function reindex() {
      [...rows.children].forEach((tr, i) => {
        tr.dataset.field = `settings_schema[${i}]`;
        for (const key of KEYS) tr.querySelector(`.f-${key}`).dataset.field = `settings_schema[${i}].${key}`;
        tr.querySelector(".f-up").disabled = i === 0;
        tr.querySelector(".f-down").disabled = i === rows.children.length - 1;
      });
      empty.classList.toggle("hidden", rows.children.length > 0);
    }

    function add(field = {}) {
      const tr = template.content.firstElementChild.cloneNode(true);
      tr.querySelector(".f-id").value = field.id || "";
      tr.querySelector(".f-label").value = field.label || "";
      tr.querySelector(".f-type").value = kindOf(field);
      tr.querySelector(".f-required").checked = !!field.required;
      tr.querySelector(".f-default").value = defaultText(field.default);
      tr.querySelector(".f-description").value = field.description || "";
      rows.appendChild(tr);
      reindex();
      return tr;
    }

    rows.addEventListener("click", (event) => {
      const tr = event.target.closest("tr");
      if (!tr) return;
      if (event.target.closest(".f-remove")) tr.remove();
      else if (event.target.closest(".f-up") && tr.previousElementSibling) tr.parentNode.insertBefore(tr, tr.previousElementSibling);
      else if (event.target.closest(".f-down") && tr.nextElementSibling) tr.parentNode.insertBefore(tr.nextElementSibling, tr);
      else return;
      reindex();
    });
    form.querySelector("#schema-add").addEventListener("click", () => add().querySelector(".f-id").focus());

    const initial = JSON.parse(document.getElementById("app-schema")?.textContent || "[]");
    initial.forEach(add);
    reindex();

    return function collect() {
      return [...rows.children].map((tr) => {
        const kind = tr.querySelector(".f-type").value;
        const [type, format] = kind.split(":");
        const field = { id: tr.querySelector(".f-id").value.trim(), type };
        if (format) field.format = format;
        const label = tr.querySelector(".f-label").value.trim();
        if (label) field.label = label;
        const description = tr.querySelector(".f-description").value.trim();
        if (description) field.description = description;
        if (tr.querySelector(".f-required").checked) field.required = true;
        const value = parseDefault(type, tr.querySelector(".f-default").value);
        if (value !== undefined) field.default = value;
        return field;
      });
    };
  }

  // A schema error on `.format` belongs to the row's Type select.
  const schemaAliases = (path) => path.replace(/^(settings_schema\[\d+\])\.format$/, "$1.type");

  function initAppForm() {
    const form = document.getElementById("app-form");
    if (!form) return;
    const collect = initSchemaEditor(form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        name: form.elements.name.value.trim(),
        scopes: [...form.querySelectorAll('input[name="scope"]:checked')].map((el) => el.value),
        settings_schema: collect ? collect() : [],
      };
      if (form.elements.partner_id) body.partner_id = form.elements.partner_id.value;
      const method = form.dataset.method;
      await busy(form.querySelector('button[type="submit"]'), async () => {
        try {
          const app = await appfn.api(method, form.dataset.url, body);
          clearErrors(form);
          if (method === "POST") window.location.assign(`/apps/${encodeURIComponent(app.id)}`);
          else { appfn.toast("App saved", "ok"); window.location.reload(); }
        } catch (error) {
          showErrors(form, error, schemaAliases);
        }
      });
    });
  }

  function initDelete() {
    const button = document.getElementById("app-delete");
    if (!button) return;
    button.addEventListener("click", async () => {
      if (!window.confirm(`Delete the app "${button.dataset.appName}" with its functions and installations?`)) return;
      await busy(button, async () => {
        try {
          await appfn.api("DELETE", `/v1/apps/${encodeURIComponent(button.dataset.appId)}`);
          window.location.assign("/apps");
        } catch (error) {
          appfn.toast(appfn.describe(error), "bad");
        }
      });
    });
  }

  initAppForm();
  initDelete();
})();
