// The event editor: builds the event file (contracts §2) from the form, saves it through the JSON API
// and shows the API's validation errors next to the fields they name. Plain JavaScript, no framework.
(function () {
  "use strict";

  const form = document.getElementById("editor");
  if (!form) return;
  const T = JSON.parse(document.getElementById("editor-messages").textContent);
  const lang = document.documentElement.lang === "en" ? "en" : "zh";
  const itemsBox = document.getElementById("items");
  const eventId = form.dataset.eventId;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // ---- paths: every field carries the path the validator uses, e.g. items[0].criteria[1].max ----
  function reindex() {
    $$(".item", itemsBox).forEach((item, i) => {
      const p = `items[${i}]`;
      item.dataset.path = p;
      $(".item-no", item).textContent = `${T.item} ${i + 1}`;
      $$(":scope > .grid [data-field], :scope > .tie-break [data-field]", item)
        .forEach((el) => { el.dataset.path = `${p}.${el.dataset.field}`; });
      $("fieldset.groups", item).dataset.path = `${p}.groups`;
      $(".table-wrap", item).dataset.path = `${p}.criteria`;
      $$("tr.criterion", item).forEach((row, k) => {
        row.dataset.path = `${p}.criteria[${k}]`;
        $$("[data-field]", row).forEach((el) => { el.dataset.path = `${p}.criteria[${k}].${el.dataset.field}`; });
      });
    });
    $("#item-count").textContent = $$(".item", itemsBox).length;
  }

  // ---- reading the form ----
  const text = (el) => (el ? el.value.trim() : "");
  function integer(value) { return /^-?\d+$/.test(value) ? parseInt(value, 10) : value; }
  function decimal(value) { return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value; }
  function put(obj, key, value, convert) { if (value !== "") obj[key] = convert ? convert(value) : value; }
  const field = (root, name) => $(`[data-field="${name}"]`, root);

  function readCriterion(row) {
    const c = {};
    put(c, "code", text(field(row, "code")));
    put(c, "name", text(field(row, "name")));
    put(c, "max", text(field(row, "max")), decimal);
    c.kind = field(row, "kind").value;
    if (c.kind === "judgement") {
      c.aggregate = field(row, "aggregate").value;
      put(c, "trim_min_judges", text(field(row, "trim_min_judges")), integer);
      put(c, "max_spread", text(field(row, "max_spread")), decimal);
    }
    return c;
  }

  function readItem(section) {
    const item = {};
    ["code", "name", "catalog_code", "host_unit"].forEach((k) => put(item, k, text(field(section, k))));
    const certificate = field(section, "certificate");
    if (certificate) item.certificate = certificate.value;
    // a 专项职业能力证书 has no level: no exam_level, no promotion_top (the file would warn and ignore them)
    const levels = item.certificate === "special_ability" ? [] : ["exam_level", "promotion_top"];
    ["team_size", ...levels].forEach((k) => put(item, k, text(field(section, k)), integer));
    ["pass_mark", "theory_weight"].forEach((k) => put(item, k, text(field(section, k)), decimal));
    const groups = $$('[data-field="group"]:checked', section).map((el) => el.value);
    text(field(section, "other_groups")).split(/[,，、;；]/).map((g) => g.trim())
      .filter((g) => g && !groups.includes(g)).forEach((g) => groups.push(g));
    item.groups = groups;
    item.criteria = $$("tr.criterion", section).map(readCriterion);
    item.tie_break = text(field(section, "tie_break")).split(/[,，、\s]+/).filter(Boolean);
    return item;
  }

  function buildDocument() {
    const v = (path) => text($(`[data-path="${path}"]`, form));
    const event = {};
    put(event, "name", v("event.name"));
    event.kind = v("event.kind");
    put(event, "starts_on", v("event.starts_on"));
    put(event, "organiser", v("event.organiser"));
    const policy = { rule: v("event.award_policy.rule") };
    put(policy, "ratio", v("event.award_policy.ratio"), decimal);
    if (policy.rule === "merit_if_over_30") put(policy, "threshold", v("event.award_policy.threshold"), integer);
    put(policy, "count", v("event.award_policy.count"));
    event.award_policy = policy;
    event.one_item_per_person = $('[data-path="event.one_item_per_person"]', form).checked;
    const quota = v("event.unit_quota_per_group");
    event.unit_quota_per_group = quota === "" ? null : integer(quota);
    event.unit_quota_mode = v("event.unit_quota_mode");
    // seed 002: "所有参赛人员照片", "应在渝工作、学习或居住", "全日制在校在籍相关专业学生"
    event.photo_required = $('[data-path="event.photo_required"]', form).checked;
    event.student_major_required = $('[data-path="event.student_major_required"]', form).checked;
    put(event, "residence_declaration", v("event.residence_declaration"));
    put(event, "registration_closes", v("event.registration_closes"));
    return { event, items: $$(".item", itemsBox).map(readItem) };
  }

  // ---- showing errors next to fields ----
  function clearErrors() {
    $$(".field-error").forEach((el) => el.remove());
    $$(".invalid").forEach((el) => el.classList.remove("invalid"));
    const summary = $("#error-summary");
    summary.hidden = true;
    $("ul", summary).replaceChildren();
  }

  function anchorFor(path) {
    // Walk up the path (items[0].tie_break[1] -> items[0].tie_break -> items[0]) to the nearest field.
    let p = path;
    while (p) {
      const el = $(`[data-path="${CSS.escape(p)}"]`, form);
      if (el) return el;
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      p = cut > 0 ? p.slice(0, cut) : "";
    }
    return null;
  }

  function listInto(box, entries) {
    const ul = $("ul", box);
    ul.replaceChildren(...entries.map((e) => {
      const li = document.createElement("li");
      if (e.path) { const code = document.createElement("code"); code.textContent = e.path; li.append(code, " "); }
      li.append(lang === "en" ? e.message_en : e.message);
      return li;
    }));
    box.hidden = entries.length === 0;
  }

  function showErrors(body) {
    clearErrors();
    const errors = body.errors || [{ path: "", message: body.message, message_en: body.message_en }];
    errors.forEach((e) => {
      const el = e.path ? anchorFor(e.path) : null;
      if (!el) return;
      el.classList.add("invalid");
      const msg = document.createElement("p");
      msg.className = "field-error";
      msg.setAttribute("role", "alert");
      msg.textContent = lang === "en" ? e.message_en : e.message;
      const holder = el.matches("input, select, textarea") ? el.parentElement : el;
      if (el.matches("input, select, textarea")) el.after(msg); else holder.append(msg);
    });
    listInto($("#error-summary"), errors);
    const first = $(".invalid", form);
    (first || $("#error-summary")).scrollIntoView({ block: "center" });
    if (first && first.focus) first.focus({ preventScroll: true });
  }

  // ---- saving ----
  async function send(url, method) {
    const status = $("#save-status");
    const response = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": form.dataset.csrf },
      body: JSON.stringify(buildDocument()),
      credentials: "same-origin",
    });
    let body = {};
    try { body = await response.json(); } catch (_) { body = {}; }
    if (!response.ok) {
      status.textContent = T.failed;
      showErrors(body);
      return null;
    }
    clearErrors();
    listInto($("#warnings"), body.warnings || []);
    return body;
  }

  async function save(checkOnly) {
    const status = $("#save-status");
    status.textContent = checkOnly ? T.checking : T.saving;
    try {
      if (checkOnly) {
        if (await send("/api/events/validate", "POST")) status.textContent = T.valid;
        return;
      }
      const body = await send(eventId ? `/api/events/${eventId}` : "/api/events", eventId ? "PUT" : "POST");
      if (!body) return;
      if (!eventId) { window.location.assign(`/admin/events/${body.id}?saved=1`); return; }
      status.textContent = T.saved;
      $(".sub") && ($(".sub").textContent = buildDocument().event.name || "");
    } catch (err) {
      status.textContent = T.network;
    }
  }

  // ---- adding and removing items and criteria; the live practical maximum ----
  function fromTemplate(id) { return document.getElementById(id).content.firstElementChild.cloneNode(true); }

  function toggleJudged(row) {
    const judged = field(row, "kind").value === "judgement";
    row.classList.toggle("not-judged", !judged);
    $$(".judged [data-field]", row).forEach((el) => { el.disabled = !judged; });
    if (judged && !text(field(row, "trim_min_judges"))) field(row, "trim_min_judges").value = "5";
  }

  // 命题等级 and 晋升名额 only mean something for a 职业技能等级证书; a 专项职业能力证书 has no level.
  function toggleCertificate(item) {
    const select = field(item, "certificate");
    const special = !!select && select.value === "special_ability";
    $$(":scope > .grid label.levelled", item).forEach((label) => {
      label.hidden = special;
      $$("[data-field]", label).forEach((el) => { el.disabled = special; });
    });
  }

  function updateTotals() {
    $$(".item", itemsBox).forEach((item) => {
      let total = 0;
      $$("tr.criterion", item).forEach((row) => {
        const max = parseFloat(field(row, "max").value);
        if (field(row, "kind").value !== "deduction" && !Number.isNaN(max)) total += max;
      });
      $(".practical-max", item).textContent = String(Math.round(total * 100) / 100);
      $(".item-title", item).textContent = text(field(item, "name"));
    });
  }

  form.addEventListener("click", (ev) => {
    const button = ev.target.closest("[data-action]");
    if (!button) return;
    const item = button.closest(".item");
    switch (button.dataset.action) {
      case "add-item": {
        const section = fromTemplate("tpl-item");
        itemsBox.append(section);
        reindex();
        $$("tr.criterion", section).forEach(toggleJudged);
        toggleCertificate(section);
        field(section, "code").focus();
        break;
      }
      case "remove-item": item.remove(); break;
      case "add-criterion": {
        const row = fromTemplate("tpl-criterion");
        $("table.criteria tbody", item).append(row);
        reindex();
        toggleJudged(row);
        field(row, "code").focus();
        break;
      }
      case "remove-criterion": button.closest("tr").remove(); break;
      default: return;
    }
    reindex();
    updateTotals();
  });

  form.addEventListener("input", updateTotals);
  form.addEventListener("change", (ev) => {
    if (ev.target.matches('[data-field="kind"]')) toggleJudged(ev.target.closest("tr"));
    if (ev.target.matches('[data-field="certificate"]')) toggleCertificate(ev.target.closest(".item"));
    if (ev.target.matches('[data-path="event.award_policy.rule"]')) toggleThreshold();
    updateTotals();
  });

  function toggleThreshold() {
    const merit = $('[data-path="event.award_policy.rule"]', form).value === "merit_if_over_30";
    $("label.threshold", form).hidden = !merit;
  }

  $("#save").addEventListener("click", () => save(false));
  $("#check").addEventListener("click", () => save(true));
  document.addEventListener("click", (ev) => {
    if (!ev.target.closest('[data-action="fill-raw"]')) return;
    $("#raw textarea").value = JSON.stringify(buildDocument(), null, 2);
  });

  // The textarea form is the no-JavaScript path: fold it away unless it holds errors to fix.
  if ($("#error-summary").hidden) $("#raw").removeAttribute("open");
  $$("tr.criterion", form).forEach(toggleJudged);
  $$(".item", itemsBox).forEach(toggleCertificate);
  toggleThreshold();
  reindex();
  updateTotals();
  window.ContestdayEditor = { buildDocument, reindex, itemsBox };
})();
