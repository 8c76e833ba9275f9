// The item picker of the event editor: searches /api/catalog as the organiser types and fills the
// item's name and catalog code from the chosen occupation or special ability.
(function () {
  "use strict";

  const form = document.getElementById("editor");
  if (!form) return;
  const T = JSON.parse(document.getElementById("editor-messages").textContent);
  const timers = new WeakMap();
  let sequence = 0;

  function render(list, entries, query) {
    list.replaceChildren();
    if (!entries.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = `${T.noResults}: ${query}`;
      list.append(li);
    }
    entries.forEach((entry) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "pick";
      button.dataset.name = entry.name;
      button.dataset.code = entry.code;
      button.dataset.kind = entry.kind;
      const name = document.createElement("strong");
      name.textContent = entry.name;
      const meta = document.createElement("small");
      meta.textContent = `${T[entry.kind] || entry.kind} · ${entry.category} · ${entry.code}`;
      button.append(name, meta);
      li.append(button);
      list.append(li);
    });
    list.hidden = false;
  }

  async function search(input) {
    const list = input.closest(".picker").querySelector(".picker-results");
    const query = input.value.trim();
    if (!query) { list.hidden = true; list.replaceChildren(); return; }
    const mine = ++sequence;
    try {
      const response = await fetch(`/api/catalog?q=${encodeURIComponent(query)}&limit=8`,
        { headers: { Accept: "application/json" } });
      const entries = response.ok ? await response.json() : [];
      if (mine === sequence) render(list, entries, query);  // drop answers overtaken by newer typing
    } catch (_) {
      list.hidden = true;
    }
  }

  form.addEventListener("input", (ev) => {
    const input = ev.target;
    if (!input.classList.contains("picker-q")) return;
    clearTimeout(timers.get(input));
    timers.set(input, setTimeout(() => search(input), 150));
  });

  form.addEventListener("click", (ev) => {
    const pick = ev.target.closest("button.pick");
    if (!pick) return;
    const item = pick.closest(".item");
    const set = (name, value) => {
      const el = item.querySelector(`[data-field="${name}"]`);
      el.value = value;
      el.dispatchEvent(new Event("input", { bubbles: true }));
    };
    set("name", pick.dataset.name);
    set("catalog_code", pick.dataset.code);
    // the catalog says the certificate: a special ability leads to a 专项职业能力证书 (no level), an
    // occupation to a 职业技能等级证书 (with 命题等级 and promotion)
    const certificate = item.querySelector('[data-field="certificate"]');
    if (certificate) {
      certificate.value = pick.dataset.kind === "special_ability" ? "special_ability" : "skill_level";
      certificate.dispatchEvent(new Event("change", { bubbles: true }));
    }
    const picker = pick.closest(".picker");
    picker.querySelector(".picker-results").hidden = true;
    picker.querySelector(".picker-q").value = "";
    item.querySelector('[data-field="code"]').focus();
  });

  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && ev.target.classList.contains("picker-q")) {
      ev.target.closest(".picker").querySelector(".picker-results").hidden = true;
    }
    // Enter in a field must not submit anything: saving is the explicit button.
    if (ev.key === "Enter" && ev.target.matches("input")) ev.preventDefault();
  });
})();
