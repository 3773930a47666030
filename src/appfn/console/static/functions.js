// Console: functions. "Add function" (filter the catalog) and the editor page (CodeMirror from
// vendor/editor.js, Save -> deploy progress -> error markers, versions with diff and rollback,
// preview panel). Everything goes through the JSON API with `appfn.api`.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  if ($("add-function")) initAdd();
  if ($("function-state")) initEditor(JSON.parse($("function-state").textContent));

  // --- Add function: filter the catalog as you type --------------------------------------------
  function initAdd() {
    const form = $("add-function");
    const filter = $("trigger-filter");
    const items = [...form.querySelectorAll("li[data-search]")];
    function apply() {
      const terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const li of items) {
        const hit = terms.every((t) => li.dataset.search.includes(t));
        li.classList.toggle("hidden", !hit);
        if (hit) shown += 1;
      }
      for (const group of form.querySelectorAll(".trigger-group")) {
        group.classList.toggle("hidden", !group.querySelector("li:not(.hidden)"));
      }
      for (const section of form.querySelectorAll(".trigger-category")) {
        section.classList.toggle("hidden", !section.querySelector("li:not(.hidden)"));
      }
      $("trigger-count").textContent = terms.length ? `${shown} of ${items.length} triggers` : `${items.length} triggers`;
      $("no-trigger").classList.toggle("hidden", shown > 0);
      return shown;
    }
    filter.addEventListener("input", apply);
    filter.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      const visible = items.filter((li) => !li.classList.contains("hidden"));
      if (visible.length === 1) visible[0].querySelector("input[type=radio]").checked = true;
      if (!form.querySelector("input[name=trigger]:checked")) event.preventDefault();
    });
    for (const li of items) li.addEventListener("dblclick", () => {
      li.querySelector("input[type=radio]").checked = true;
      form.requestSubmit();
    });
    apply();
  }

  // --- The editor page ----------------------------------------------------------------------------
  function initEditor(state) {
    const base = `/v1/apps/${enc(state.app_id)}/functions/${enc(state.trigger)}`;
    let language = state.language;
    let baseline = state.is_new ? null : state.source; // the saved text the editor started from
    let template = state.is_new ? state.source : null;
    let fn = state.function; // {active_version_number, latest_version_number, ...} or null
    let versions = state.versions;
    const sources = new Map(); // version number -> source (diffs)
    if (state.shown_version) sources.set(state.shown_version, state.source);
    let busy = false;

    const editor = makeEditor($("editor"), state.source, language, updateDirty);
    window.appfnFunction = { editor, state }; // for tests and the curious

    // -- status line, dirty marker
    function updateDirty() {
      const text = editor.getValue();
      const dirty = baseline === null ? text !== template || state.is_new : text !== baseline;
      $("fn-dirty").textContent = baseline === null ? "not saved yet" : dirty ? "unsaved changes" : "";
    }
    function renderStatus() {
      const box = $("fn-status");
      if (!fn || !fn.active_version_number) {
        box.innerHTML = `<span class="status">not deployed</span>`;
      } else {
        box.innerHTML = `<span class="status status-active">active: version ${fn.active_version_number}</span>`;
      }
    }

    // -- language
    $("fn-language").addEventListener("change", async (event) => {
      const next = event.target.value;
      const text = editor.getValue();
      const untouched = text === template || text.trim() === "";
      if (untouched || window.confirm(`Replace the editor's text with the ${next} template?`)) {
        try {
          const body = await fetch(`/v1/triggers/${enc(state.trigger)}/template?lang=${state.template_codes[next]}`,
            { credentials: "same-origin" });
          if (!body.ok) throw new Error(`template: HTTP ${body.status}`);
          template = await body.text();
          editor.setValue(template);
        } catch (err) {
          appfn.toast(appfn.describe(err), "bad");
        }
      }
      language = next;
      editor.setLanguage(language);
      editor.clearErrors();
      updateDirty();
    });

    // -- save and deploy
    const deployBox = $("deploy");
    function showDeploy(title, status, fraction, error) {
      deployBox.classList.remove("hidden");
      deployBox.dataset.status = status;
      $("deploy-title").textContent = title;
      $("deploy-status").innerHTML = status ? `<span class="status status-${status.toLowerCase()}">${appfn.escapeHtml(status)}</span>` : "";
      $("deploy-progress").firstElementChild.style.width = `${Math.round(fraction * 100)}%`;
      $("deploy-progress").classList.toggle("done", fraction >= 1);
      $("deploy-error").classList.toggle("hidden", !error);
      $("deploy-error").textContent = error || "";
    }
    function showJob(job) {
      if (job.status === "PENDING") {
        showDeploy(`Deploying version ${job.version_number}…`, "PENDING", 0.6);
      } else if (job.status === "COMPLETED") {
        showDeploy(`Version ${job.version_number} deployed`, "COMPLETED", 1);
        editor.clearErrors();
      } else {
        const where = job.failure_line ? ` (line ${job.failure_line})` : "";
        showDeploy(`Version ${job.version_number} failed to deploy${where}`, job.status, 1, job.failure_reason || "failed");
        if (job.failure_line) editor.setErrors([{ line: job.failure_line, message: job.failure_reason || "deploy failed" }]);
      }
    }
    async function pollDeploy(job) {
      const started = Date.now();
      let delay = 150;
      while (job.status === "PENDING" && Date.now() - started < 90_000) {
        showJob(job);
        await sleep(delay);
        delay = Math.min(delay * 1.5, 1000);
        job = await appfn.api("GET", `/v1/deploys/${enc(job.id)}`);
      }
      showJob(job);
      return job;
    }

    async function save() {
      const source = editor.getValue();
      editor.clearErrors();
      showDeploy("Saving…", "PENDING", 0.2);
      let answer;
      try {
        answer = await appfn.api("PUT", base, { source, language });
      } catch (err) {
        const line = err.body && err.body.detail && err.body.detail.line;
        showDeploy("Not saved", "FAILED", 1, appfn.describe(err));
        if (line) editor.setErrors([{ line, message: err.message }]);
        appfn.toast(appfn.describe(err), "bad");
        return null;
      }
      baseline = source;
      state.is_new = false;
      fn = answer.function;
      state.shown_version = answer.version.number;
      sources.set(answer.version.number, source);
      updateDirty();
      await refresh();
      const job = await pollDeploy(answer.deploy);
      await refresh();
      if (!answer.created && job.status === "COMPLETED") appfn.toast(`No change: version ${job.version_number} has this code`);
      else if (job.status === "COMPLETED") appfn.toast(`Version ${job.version_number} is live`, "ok");
      else if (job.status === "FAILED") appfn.toast(`Deploy failed: ${job.failure_reason}`, "bad");
      return job;
    }
    async function guarded(button, work) {
      if (busy) return;
      busy = true;
      const buttons = document.querySelectorAll("#fn-save, #preview-save, #preview-draft");
      buttons.forEach((b) => { b.disabled = true; });
      try { return await work(); }
      catch (err) { appfn.toast(appfn.describe(err), "bad"); }
      finally {
        busy = false;
        buttons.forEach((b) => { b.disabled = false; });
      }
    }
    $("fn-save").addEventListener("click", (e) => guarded(e.target, save));
    document.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "s") {
        event.preventDefault();
        guarded($("fn-save"), save);
      }
    });

    // -- versions, diff, rollback
    async function refresh() {
      try {
        const data = await appfn.api("GET", base);
        fn = data;
        versions = data.versions.slice(0, 50);
        state.versions_total = data.versions.length;
      } catch (err) {
        if (!(err instanceof appfn.ApiError && err.status === 404)) throw err;
      }
      renderVersions();
      renderStatus();
    }
    function renderVersions() {
      const body = $("versions");
      body.innerHTML = "";
      $("versions-empty").classList.toggle("hidden", versions.length > 0);
      $("versions-note").textContent = state.versions_total > versions.length ? `newest ${versions.length} of ${state.versions_total}` : "";
      for (const v of versions) {
        const active = fn && fn.active_version_number === v.number;
        const latest = versions[0] && versions[0].number === v.number;
        const tr = document.createElement("tr");
        tr.dataset.version = v.number;
        if (v.number === state.shown_version) tr.classList.add("shown");
        const created = new Date(v.created_at);
        const status = v.deploy_status || "—";
        tr.innerHTML = `
          <td><a href="?version=${v.number}" title="open this version in the editor">${v.number}</a>${active ? ' <span class="tag active-tag">active</span>' : ""}</td>
          <td><time datetime="${appfn.escapeHtml(v.created_at)}" title="${appfn.escapeHtml(v.created_at)}">${appfn.escapeHtml(created.toLocaleString())}</time></td>
          <td>${appfn.escapeHtml(v.language)}</td>
          <td><span class="status status-${appfn.escapeHtml(status.toLowerCase())}">${appfn.escapeHtml(status)}</span></td>
          <td class="actions"></td><td class="actions"></td>`;
        const [diffCell, rollCell] = tr.querySelectorAll("td.actions");
        if (v.number > 1) diffCell.appendChild(button("Diff", "diff", () => showDiff(v.number - 1, v.number)));
        diffCell.appendChild(button("vs editor", "diff-editor", () => showDiff(v.number, null)));
        if (v.deploy_status === "COMPLETED" && !(active && latest && v.number === state.shown_version)) {
          rollCell.appendChild(button(active ? "Restore" : "Rollback", "rollback", () => rollback(v.number), "danger"));
        }
        body.appendChild(tr);
      }
    }
    function button(label, action, onClick, kind = "") {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.action = action;
      if (kind) b.className = kind;
      b.addEventListener("click", onClick);
      return b;
    }
    async function sourceOf(number) {
      if (!sources.has(number)) {
        const v = await appfn.api("GET", `${base}/versions/${number}`);
        sources.set(number, v.source);
      }
      return sources.get(number);
    }
    let diffView = null;
    async function showDiff(a, b) {
      try {
        const left = await sourceOf(a);
        const right = b === null ? editor.getValue() : await sourceOf(b);
        if (diffView) diffView.destroy();
        $("diff").innerHTML = "";
        $("diff-title").textContent = b === null ? `Diff: version ${a} → editor` : `Diff: version ${a} → version ${b}`;
        $("diff-a").textContent = `version ${a}`;
        $("diff-b").textContent = b === null ? "editor" : `version ${b}`;
        if (window.appfnEditor) {
          diffView = window.appfnEditor.diff($("diff"), { a: left, b: right, language });
        } else {
          $("diff").innerHTML = `<pre class="code">${appfn.escapeHtml(right)}</pre>`;
        }
        $("diff-card").classList.remove("hidden");
        $("diff-card").scrollIntoView({ block: "nearest" });
      } catch (err) {
        appfn.toast(appfn.describe(err), "bad");
      }
    }
    $("diff-close").addEventListener("click", () => {
      if (diffView) diffView.destroy();
      diffView = null;
      $("diff-card").classList.add("hidden");
    });

    async function rollback(number) {
      const text = editor.getValue();
      if (baseline !== null && text !== baseline && !window.confirm("Discard the editor's unsaved changes?")) return;
      if (!window.confirm(`Make version ${number} the active version?`)) return;
      try {
        fn = await appfn.api("POST", `${base}/rollback`, { version: number });
        const source = await sourceOf(number);
        const v = versions.find((x) => x.number === number);
        if (v && v.language !== language) {
          language = v.language;
          $("fn-language").value = language;
          editor.setLanguage(language);
        }
        editor.setValue(source);
        editor.clearErrors();
        baseline = source;
        state.shown_version = number;
        history.replaceState(null, "", `?version=${number}`);
        showDeploy(`Rolled back: version ${number} is active`, "COMPLETED", 1);
        updateDirty();
        await refresh();
        appfn.toast(`Version ${number} is active`, "ok");
      } catch (err) {
        appfn.toast(appfn.describe(err), "bad");
      }
    }

    // -- preview
    if ($("preview-field")) initPreview();

    function initPreview() {
      const storeSelect = $("preview-store");
      const field = $("preview-field");
      const usable = [...storeSelect.options].find((o) => !o.disabled);
      if (usable) storeSelect.value = usable.value;
      const picker = state.picker;
      if (picker) initPicker(picker, storeSelect, field);

      async function runPreview(withDraft) {
        const storeId = storeSelect.value;
        const ident = field.value.trim();
        if (!storeId || storeSelect.selectedOptions[0]?.disabled) {
          appfn.toast("Choose a store where the app is installed", "bad");
          return;
        }
        if (!ident) {
          appfn.toast(`Enter ${field.name} (or pick one with Find…)`, "bad");
          field.focus();
          return;
        }
        const body = { store_id: Number(storeId), [field.name]: /^\d+$/.test(ident) ? Number(ident) : ident };
        if (withDraft) {
          body.source = editor.getValue();
          body.language = language;
          editor.clearErrors();
        }
        showPreviewPending(withDraft ? "the draft in the editor" : "the active version");
        try {
          const result = await appfn.api("POST", `${base}/preview`, body);
          showPreview(result, withDraft);
        } catch (err) {
          const line = err.body && err.body.detail && err.body.detail.line;
          if (line) editor.setErrors([{ line, message: err.message }]);
          showPreviewError(appfn.describe(err));
        }
      }
      $("preview-draft").addEventListener("click", (e) => guarded(e.target, () => runPreview(true)));
      $("preview-save").addEventListener("click", (e) => guarded(e.target, async () => {
        const unchanged = baseline !== null && editor.getValue() === baseline && fn &&
          fn.active_version_number && fn.active_version_number === state.shown_version;
        if (unchanged) return runPreview(false); // the active version is what the editor shows
        const job = await save();
        if (!job) return showPreviewError("Not saved: see the error in the editor.");
        if (job.status !== "COMPLETED") {
          return showPreviewError(`The deploy ${job.status === "FAILED" ? "failed" : "is still pending"}: ${job.failure_reason || ""}`.trim());
        }
        await runPreview(false);
      }));
    }

    function resultBox() {
      const box = $("preview-result");
      box.classList.remove("hidden");
      return box;
    }
    function showPreviewPending(what) {
      const box = resultBox();
      box.dataset.state = "running";
      $("preview-status").innerHTML = `<span class="status status-running">running</span>`;
      $("preview-time").textContent = "…";
      $("preview-what").textContent = what;
    }
    function showPreviewError(message) {
      const box = resultBox();
      box.dataset.state = "error";
      $("preview-status").innerHTML = `<span class="status status-error">not run</span>`;
      $("preview-time").textContent = "—";
      $("preview-response").textContent = "";
      $("preview-console").textContent = "";
      $("preview-errors-box").classList.remove("hidden");
      $("preview-errors").textContent = message;
      $("preview-requests").innerHTML = "";
      $("preview-no-requests").classList.remove("hidden");
    }
    function showPreview(result, withDraft) {
      const box = resultBox();
      box.dataset.state = result.status;
      const ok = result.status === "success";
      $("preview-status").innerHTML = `<span class="status status-${ok ? "success" : "failed"}">${appfn.escapeHtml(result.status)}</span>` +
        (result.error_kind ? ` <span class="muted">${appfn.escapeHtml(result.error_kind)}</span>` : "");
      const startup = result.startup_ms ? ` (incl. ${result.startup_ms.toFixed(1)} ms start-up)` : "";
      $("preview-time").textContent = `${Number(result.duration_ms).toFixed(1)} ms${startup}`;
      $("preview-response").textContent = result.response === null || result.response === undefined ? "null" : appfn.pretty(result.response);
      const lines = result.console || [];
      $("preview-console").textContent = lines.length ? lines.join("\n") : "(nothing logged)";
      $("preview-errors-box").classList.toggle("hidden", !result.error);
      $("preview-errors").textContent = result.error || "";
      if (result.error && withDraft) {
        const line = lineInTraceback(result.error);
        if (line) editor.setErrors([{ line, message: result.error.trim().split("\n").pop(), severity: "warning" }]);
      }
      const rows = $("preview-requests");
      rows.innerHTML = "";
      for (const call of result.requests || []) {
        const tr = document.createElement("tr");
        const status = call.status ?? (call.error ? "error" : "—");
        tr.innerHTML = `<td>${appfn.escapeHtml(call.method)}</td><td class="url" title="${appfn.escapeHtml(call.error || "")}">${appfn.escapeHtml(call.url)}</td>` +
          `<td class="num">${appfn.escapeHtml(status)}</td><td class="num">${call.duration_ms != null ? Number(call.duration_ms).toFixed(1) + " ms" : "—"}</td>`;
        rows.appendChild(tr);
      }
      $("preview-no-requests").classList.toggle("hidden", (result.requests || []).length > 0);
      box.scrollIntoView({ block: "nearest" });
    }
    // The last frame of the user's file in a traceback: `File "handler.py", line 7` or handler.ts:7:3
    function lineInTraceback(text) {
      const re = /handler\.(?:py|ts|js)(?:", line |:)(\d+)/g;
      let match, line = null;
      while ((match = re.exec(text))) line = Number(match[1]);
      return line;
    }

    function initPicker(picker, storeSelect, field) {
      const panel = $("picker");
      const toggle = $("picker-toggle");
      const search = $("picker-search");
      const list = $("picker-results");
      let timer = null, seq = 0;
      async function load() {
        const mine = ++seq;
        const params = new URLSearchParams({ per_page: "10" });
        if (search && search.value.trim()) params.set("keyword", search.value.trim());
        list.innerHTML = `<li class="muted">Loading…</li>`;
        try {
          const answer = await appfn.api("GET", `${picker.path}?${params}`, undefined, { headers: { "X-Store-Id": storeSelect.value } });
          if (mine !== seq) return;
          list.innerHTML = "";
          for (const item of answer.data || []) {
            const li = document.createElement("li");
            const b = document.createElement("button");
            b.type = "button";
            b.dataset.id = item.id;
            b.innerHTML = `<span class="pick-id">#${appfn.escapeHtml(item.id)}</span> ${appfn.escapeHtml(describeRecord(item))}`;
            b.addEventListener("click", () => {
              field.value = item.id;
              close();
              field.focus();
            });
            li.appendChild(b);
            list.appendChild(li);
          }
          if (!list.children.length) list.innerHTML = `<li class="muted">Nothing found.</li>`;
        } catch (err) {
          if (mine === seq) list.innerHTML = `<li class="error">${appfn.escapeHtml(appfn.describe(err))}</li>`;
        }
      }
      function open() {
        panel.classList.remove("hidden");
        toggle.setAttribute("aria-expanded", "true");
        load();
        if (search) search.focus();
      }
      function close() {
        panel.classList.add("hidden");
        toggle.setAttribute("aria-expanded", "false");
      }
      toggle.addEventListener("click", () => (panel.classList.contains("hidden") ? open() : close()));
      if (search) search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 200); });
      storeSelect.addEventListener("change", () => { if (!panel.classList.contains("hidden")) load(); });
      panel.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
    }
    function describeRecord(item) {
      const name = item.name || [item.first_name, item.last_name].filter(Boolean).join(" ");
      const extra = item.email || (item.mobile ? `${item.mobile_code || ""}${item.mobile}` : "") || item.sku ||
        (item.status && (item.status.name || item.status.slug || item.status)) || item.reference_id || "";
      return [name, typeof extra === "string" ? extra : ""].filter(Boolean).join(" — ") || "";
    }

    // -- first paint
    renderVersions();
    renderStatus();
    updateDirty();
    if (state.shown_job && state.shown_job.status !== "COMPLETED") {
      if (state.shown_job.status === "PENDING") guarded(null, () => pollDeploy(state.shown_job).then(refresh));
      else showJob(state.shown_job);
    }
  }

  // CodeMirror when vendor/editor.js loaded, else a plain textarea with the same methods.
  function makeEditor(element, doc, language, onChange) {
    if (window.appfnEditor) return window.appfnEditor.create(element, { doc, language, onChange });
    const area = $("editor-fallback");
    element.classList.add("hidden");
    area.classList.remove("hidden");
    area.value = doc;
    area.addEventListener("input", () => onChange(area.value));
    const api = {
      getValue: () => area.value,
      setValue: (text) => { area.value = text; onChange(text); },
      setLanguage() {},
      setErrors(errors) {
        if (errors.length) appfn.toast(errors.map((e) => `line ${e.line}: ${e.message}`).join("\n"), "bad");
        return errors.length;
      },
      clearErrors() {},
      gotoLine() {},
      focus: () => area.focus(),
    };
    return api;
  }
})();
