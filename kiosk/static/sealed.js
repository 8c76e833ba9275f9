/* The encryption judge's reveal buttons: confirm, then POST the reveal API (the server checks the score lock
   and the order of layers again); reload to show where the item stands. */
(function () {
  "use strict";
  const table = document.getElementById("sealed");
  if (!table) return;
  const error = document.getElementById("reveal-error");
  table.addEventListener("click", async (e) => {
    const button = e.target.closest("button.reveal");
    if (!button || button.disabled) return;
    const row = button.closest("tr");
    const layer = Number(button.dataset.layer);
    const question = table.dataset.confirm.replace("{item}", row.dataset.name).replace("{layer}", String(layer));
    if (!window.confirm(question)) return;
    button.disabled = true;
    try {
      const r = await fetch(`/api/events/${table.dataset.event}/items/${encodeURIComponent(row.dataset.item)}/reveal`, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": table.dataset.csrf },
        body: JSON.stringify({ layer: layer }),
      });
      if (r.ok) { window.location.reload(); return; }
      const body = await r.json().catch(() => ({}));
      error.textContent = (document.documentElement.lang === "en" ? body.message_en : body.message) || String(r.status);
      error.hidden = false;
    } catch (err) {
      error.textContent = String(err);
      error.hidden = false;
    }
    button.disabled = false;
  });
})();
