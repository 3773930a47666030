// Catalog: filter the triggers as you type; tabs and Copy buttons on a trigger's page.
(function () {
  "use strict";
  const search = document.getElementById("catalog-search");
  if (search) {
    const count = document.getElementById("catalog-count");
    const empty = document.getElementById("catalog-empty");
    const filter = () => {
      const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      document.querySelectorAll(".catalog-group").forEach((group) => {
        let inGroup = 0;
        group.querySelectorAll("tr[data-trigger]").forEach((row) => {
          const hit = words.every((w) => row.dataset.search.includes(w));
          row.classList.toggle("hidden", !hit);
          if (hit) inGroup += 1;
        });
        group.classList.toggle("hidden", inGroup === 0);
        shown += inGroup;
      });
      count.textContent = `${shown} of ${count.dataset.total} triggers`;
      empty.classList.toggle("hidden", shown > 0);
      const url = new URL(window.location.href);
      if (search.value) url.searchParams.set("q", search.value); else url.searchParams.delete("q");
      history.replaceState(null, "", url);
    };
    search.addEventListener("input", filter);
    search.form.addEventListener("submit", (event) => { event.preventDefault(); filter(); });
  }

  document.querySelectorAll("[data-tabs]").forEach((box) => {
    const tabs = box.querySelectorAll('[role="tab"]');
    tabs.forEach((tab) => tab.addEventListener("click", () => {
      tabs.forEach((other) => {
        const selected = other === tab;
        other.setAttribute("aria-selected", selected ? "true" : "false");
        document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
      });
    }));
  });

  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) return;
    const text = document.getElementById(button.dataset.copy).textContent;
    try {
      await navigator.clipboard.writeText(text);
      appfn.toast("Copied", "ok");
    } catch {
      appfn.toast("Copy is not allowed here: select the text instead.", "bad");
    }
  });
})();
