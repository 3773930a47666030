// Executions: the live list (server-sent events), the quick time ranges, and Replay buttons.
(function () {
  "use strict";
  const MAX_ROWS = 200; // the live list keeps this many rows

  // --- live list ---------------------------------------------------------------------------
  const table = document.getElementById("executions");
  const state = document.getElementById("live-state");

  function setState(on, text) {
    if (!state) return;
    state.classList.toggle("on", on);
    state.classList.toggle("off", !on);
    state.dataset.live = on ? "on" : "off";
    state.textContent = text;
  }

  function rowFrom(html) {
    const holder = document.createElement("tbody");
    holder.innerHTML = html.trim();
    return holder.querySelector("tr");
  }

  function place(body, row) {
    // Newest first by (created, id); most rows arrive newest, so look from the top.
    const created = row.dataset.created + row.dataset.executionId;
    for (const other of body.rows) {
      if ((other.dataset.created + other.dataset.executionId) < created) {
        body.insertBefore(row, other);
        return;
      }
    }
    body.appendChild(row);
  }

  function receive(event) {
    const item = JSON.parse(event.data);
    const body = table.tBodies[0];
    const existing = body.querySelector(`tr[data-execution-id="${CSS.escape(item.id)}"]`);
    if (existing && existing.dataset.status === item.status) return;
    const row = rowFrom(item.html);
    if (!row) return;
    row.classList.add("new");
    if (existing) existing.replaceWith(row);
    else place(body, row);
    while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
    document.getElementById("executions-empty")?.classList.add("hidden");
  }

  function connect(url) {
    const source = new EventSource(url, { withCredentials: true });
    source.addEventListener("open", () => setState(true, "● Live"));
    source.addEventListener("execution", receive);
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (too many open lists, signed out): try again a little later.
        setState(false, "Live paused, retrying…");
        setTimeout(() => connect(url), 10000);
      } else {
        setState(false, "Reconnecting…");
      }
    });
    window.addEventListener("pagehide", () => source.close(), { once: true });
  }

  if (table && table.dataset.stream && window.EventSource) connect(table.dataset.stream);

  // --- quick time ranges -------------------------------------------------------------------
  const form = document.getElementById("execution-filters");
  form?.querySelectorAll("button[data-range]").forEach((button) => {
    button.addEventListener("click", () => {
      const since = new Date(Date.now() - Number(button.dataset.range) * 1000);
      form.elements.since.value = since.toISOString().slice(0, 19); // UTC, as the inputs are
      form.elements.until.value = "";
      form.submit();
    });
  });

  // --- replay ------------------------------------------------------------------------------
  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest("button[data-replay]");
    if (!button) return;
    button.disabled = true;
    try {
      await appfn.api("POST", `/v1/executions/${encodeURIComponent(button.dataset.replay)}/replay`);
      appfn.toast("Queued again: the new run will appear in Executions.", "ok");
      button.textContent = "Replayed";
      const row = button.closest("tr[data-job-id]");
      if (row) row.classList.add("replayed");
    } catch (err) {
      appfn.toast(appfn.describe(err), "bad");
      button.disabled = false;
    }
  });
})();
