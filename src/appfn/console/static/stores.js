// appfn console, stores section: create a store, create/edit a customer through the demo store's
// Admin API (so customer.created / customer.updated fire), install an app with the settings form
// generated from its schema, change settings and status, uninstall. Needs apps.js (appfnForms).
(function () {
  "use strict";
  const { showErrors, clearErrors, busy } = window.appfnForms;
  const MASK = "********";
  const FLASH = "appfn.stores.flash"; // a message for the page a change leads to

  const flash = sessionStorage.getItem(FLASH);
  if (flash) {
    sessionStorage.removeItem(FLASH);
    appfn.toast(flash, "ok");
  }

  function onSubmit(form, work) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await busy(form.querySelector('button[type="submit"]'), async () => {
        try {
          await work();
        } catch (error) {
          showErrors(form, error);
        }
      });
    });
  }

  // --- stores ---------------------------------------------------------------------------------
  const storeForm = document.getElementById("store-form");
  if (storeForm) {
    onSubmit(storeForm, async () => {
      const raw = storeForm.elements.id.value.trim();
      const body = {
        id: /^\d+$/.test(raw) ? Number(raw) : raw,
        name: storeForm.elements.name.value.trim(),
        is_demo: storeForm.elements.is_demo.checked,
      };
      const created = await appfn.api("POST", "/v1/stores", body);
      window.location.assign(`/stores/${created.id}`);
    });
  }

  // --- records: customers and products, through the Admin API (their .created / .updated fire) ---
  // A new record is POSTed with its non-empty fields; an existing one is PUT with only the fields
  // that changed (``same(before, now)`` says whether a field kept its value).
  function recordForm(form, { kind, noun, values, same }) {
    const storeId = form.dataset.storeId;
    const recordId = form.dataset[`${kind}Id`];
    const before = JSON.parse(document.getElementById(`${kind}-values`)?.textContent || "{}");
    const headers = { "X-Store-Id": storeId };
    onSubmit(form, async () => {
      const now = values();
      if (!recordId) {
        const body = {};
        for (const [key, value] of Object.entries(now)) if (value !== "" && value !== null) body[key] = value;
        const created = await appfn.api("POST", `/admin/v2/${kind}s`, body, { headers });
        sessionStorage.setItem(FLASH, `${noun} created: ${kind}.created sent to the store's installed apps`);
        window.location.assign(`/stores/${storeId}/${kind}s/${created.data.id}`);
        return;
      }
      const changed = {};
      for (const [key, value] of Object.entries(now)) if (!same(before[key], value)) changed[key] = value;
      if (!Object.keys(changed).length) {
        clearErrors(form);
        appfn.toast("Nothing changed");
        return;
      }
      await appfn.api("PUT", `/admin/v2/${kind}s/${recordId}`, changed, { headers });
      sessionStorage.setItem(FLASH, `${noun} saved: ${kind}.updated sent to the store's installed apps`);
      window.location.reload();
    });
  }

  const customerForm = document.getElementById("customer-form");
  if (customerForm) {
    const norm = (v) => (v === null || v === undefined ? "" : v);
    recordForm(customerForm, {
      kind: "customer",
      noun: "Customer",
      same: (was, now) => norm(was) === norm(now),
      values() {
        const el = customerForm.elements;
        const out = {};
        for (const name of ["first_name", "last_name", "mobile_code", "mobile", "email", "gender", "city"]) {
          out[name] = el[name].value.trim();
        }
        out.birthday = el.birthday.value || null;
        out.is_notifications_enabled = el.is_notifications_enabled.checked;
        return out;
      },
    });
  }

  const productForm = document.getElementById("product-form");
  if (productForm) {
    recordForm(productForm, {
      kind: "product",
      noun: "Product",
      same: (was, now) => (was ?? null) === now,
      values() {
        const out = {};
        for (const el of productForm.querySelectorAll("[data-field]")) {
          const text = el.value.trim();
          if (el.dataset.kind) out[el.name] = text === "" ? null : Number.isFinite(Number(text)) ? Number(text) : text;
          else out[el.name] = text;
        }
        return out;
      },
    });
  }

  // --- installations --------------------------------------------------------------------------
  // Settings as the API takes them. A blank password field sends the mask when a secret is stored
  // (the API keeps it) and nothing otherwise; the stored secret is never in the page.
  function collectSettings(form) {
    const settings = {};
    for (const el of form.querySelectorAll("[data-setting]")) {
      const id = el.dataset.setting;
      const type = el.dataset.type;
      if (type === "boolean") { settings[id] = el.checked; continue; }
      const text = el.value;
      if (el.dataset.secret) {
        if (text !== "") settings[id] = text;
        else if (el.dataset.stored) settings[id] = MASK;
        continue;
      }
      if (type === "number" || type === "integer") {
        if (text.trim() === "") continue; // the field's default, or "is required"
        const n = Number(text);
        settings[id] = Number.isFinite(n) ? n : text;
        continue;
      }
      settings[id] = text;
    }
    return settings;
  }

  const grantedOf = (form) => [...form.querySelectorAll('input[name="granted_scope"]:checked')].map((el) => el.value);

  const installForm = document.getElementById("install-form");
  if (installForm) {
    onSubmit(installForm, async () => {
      const body = {
        app_id: installForm.dataset.appId,
        store_id: Number(installForm.dataset.storeId),
        settings: collectSettings(installForm),
        granted_scopes: grantedOf(installForm),
        status: installForm.elements.active.checked ? "active" : "inactive",
      };
      const created = await appfn.api("POST", "/v1/installations", body);
      window.location.assign(`/installations/${encodeURIComponent(created.id)}?installed=1`);
    });
  }

  const installationForm = document.getElementById("installation-form");
  if (installationForm) {
    const id = encodeURIComponent(installationForm.dataset.installationId);
    onSubmit(installationForm, async () => {
      const body = { settings: collectSettings(installationForm), granted_scopes: grantedOf(installationForm) };
      await appfn.api("PATCH", `/v1/installations/${id}`, body);
      appfn.toast("Settings saved", "ok");
      window.location.assign(window.location.pathname); // drops ?installed=1
    });

    const toggle = document.getElementById("installation-toggle");
    toggle?.addEventListener("click", () => busy(toggle, async () => {
      try {
        await appfn.api("PATCH", `/v1/installations/${id}`, { status: toggle.dataset.status });
        window.location.assign(window.location.pathname);
      } catch (error) {
        appfn.toast(appfn.describe(error), "bad");
      }
    }));

    const remove = document.getElementById("installation-delete");
    remove?.addEventListener("click", () => {
      if (!window.confirm("Uninstall this app from the store? Its settings are deleted.")) return;
      busy(remove, async () => {
        try {
          await appfn.api("DELETE", `/v1/installations/${id}`);
          window.location.assign(remove.dataset.back);
        } catch (error) {
          appfn.toast(appfn.describe(error), "bad");
        }
      });
    });
  }
})();
