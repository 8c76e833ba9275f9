/* The judge's tablet page: item tabs, a seat grid (seat numbers only: marking is blind), per seat the
   criteria with validated inputs, drafts, conflicts, remarks, and signing the sheet. Data comes from the
   websocket snapshot through queue.js; every change is an operation queued in local storage first. */
(function () {
  "use strict";
  var Q = window.TabletQueue;
  var body = document.body;
  var TEXT = JSON.parse(document.getElementById("tablet-text").textContent);
  var EN = document.documentElement.lang === "en";
  var store = new Q.Store(body.dataset.store);
  var queue = new Q.Queue(store);
  var $ = function (id) { return document.getElementById(id); };

  function t(key, args) {
    return (TEXT[key] || key).replace(/\{(\w+)\}/g, function (m, name) {
      return args && args[name] !== undefined && args[name] !== null ? String(args[name]) : m;
    });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "on") Object.keys(attrs.on).forEach(function (e) { node.addEventListener(e, attrs.on[e]); });
      else if (attrs[k] !== false && attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  // what the page knows: the last snapshot (kept for a start without network), the server's marks with their
  // versions, drafts (typed, not yet committed), notes (refusals and conflicts the judge has to see)
  var saved = store.get("state", null);
  var S = {
    judge: saved ? saved.judge : null, items: saved ? saved.items : [], marks: saved ? saved.marks : {},
    drafts: store.get("drafts", {}), notes: store.get("notes", {}), view: store.get("view", {}), net: "connecting"
  };
  function persist() {
    store.set("state", { judge: S.judge, items: S.items, marks: S.marks });
    store.set("drafts", S.drafts); store.set("notes", S.notes); store.set("view", S.view);
  }
  function item() {
    return S.items.filter(function (i) { return i.code === S.view.item; })[0] || S.items[0] || null;
  }
  function criterionName(it, code) {
    var c = it.criteria.filter(function (x) { return x.code === code; })[0];
    return c ? code + " " + c.name : code;
  }
  function isScale(c) { return c.scale === "0-3" || (c.kind === "judgement" && c.max === "3.00"); }
  function readOnly(it, c) { return it.submitted || queue.submitFor(it.code) || c.locked; }

  /* What a mark shows: a draft first, then the last queued edit, then the server's value. */
  function shown(key) {
    if (S.drafts[key] !== undefined) return S.drafts[key];
    var q = queue.forMark(key);
    if (q.length) return q[q.length - 1].value || "";
    return S.marks[key] && S.marks[key].value !== null ? S.marks[key].value : "";
  }
  function markState(key) {
    var note = S.notes[key];
    if (note && note.kind === "conflict") return "conflict";
    if (S.drafts[key] !== undefined) return "draft";
    if (queue.forMark(key).length) return "waiting";
    if (note && note.kind === "refused") return "refused";
    return S.marks[key] ? "saved" : "none";
  }

  // ---- changes become operations ---------------------------------------------------------------------------
  function commit(it, c, seat, text) {
    var key = Q.markKey(it.code, seat, c.code);
    var check = Q.checkMark(text, c.max);
    if (!check.ok) { S.drafts[key] = text; persist(); render(); return false; }
    delete S.drafts[key];
    var current = shown(key);
    var same = current === "" ? check.value === null : check.value !== null && Q.toHundredths(current) ===
      Q.toHundredths(check.value);
    if (same && markState(key) !== "conflict") { persist(); render(); return true; }
    var server = S.marks[key] ? S.marks[key].version : 0;
    var op = { type: "op", op_id: Q.newOpId(), kind: "set_score", item: it.code, seat: seat, criterion: c.code,
      value: check.value, base_version: queue.baseVersion(key, server) };
    delete S.notes[key];
    if (!queue.push(op)) warnStorage();  // stored before it is sent
    persist();
    link.send(op);
    render();
    return true;
  }
  /* 确认原分: the judge looked again and keeps the mark; queued like a mark, the request leaves on its ack. */
  function keepMark(it, r) {
    if (keeping(r.id)) return;
    var op = { type: "op", op_id: Q.newOpId(), kind: "keep_mark", item: it.code, remark: r.id };
    if (!queue.push(op)) warnStorage();
    link.send(op);
    render();
  }
  function keeping(id) { return queue.ops.some(function (op) { return op.kind === "keep_mark" && op.remark === id; }); }
  function dropRemarks(code, ids) {
    var it = S.items.filter(function (i) { return i.code === code; })[0];
    if (it) it.remarks = it.remarks.filter(function (r) { return ids.indexOf(r.id) < 0; });
  }
  /* 交卷: the contestant at the seat hands in; the moment of the tap travels with the op, so a queued hand-in
     keeps its time. The first hand-in stands (another tablet's is acked with it). */
  function handingIn(it, seat) {
    return queue.ops.some(function (op) { return op.kind === "hand_in" && op.item === it.code && op.seat === seat; });
  }
  function handIn(it, seat) {
    if (handingIn(it, seat) || !window.confirm(t("hand_in_confirm", { seat: seat }))) return;
    var op = { type: "op", op_id: Q.newOpId(), kind: "hand_in", item: it.code, seat: seat, at: new Date().toISOString() };
    if (!queue.push(op)) warnStorage();
    link.send(op);
    render();
  }
  function clock(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), sec = seconds % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (sec < 10 ? "0" : "") + sec;
  }
  function drawHandIn(it, seat) {
    var button = $("hand-in"), used = (it.handed_in || {})[seat], waiting = handingIn(it, seat);
    if (!button) return;
    var done = used !== undefined && used !== null;
    button.disabled = done || waiting;
    button.textContent = done ? t("handed_in", { time: clock(used) }) : waiting ? t("hand_in_waiting") : t("hand_in");
    button.dataset.state = done ? "done" : waiting ? "waiting" : "open";
  }
  function submitSheet(it, signature) {
    var op = { type: "op", op_id: Q.newOpId(), kind: "submit_sheet", item: it.code, signature: signature };
    if (!queue.push(op)) warnStorage();
    link.send(op);
    render();
  }

  // ---- server messages -------------------------------------------------------------------------------------
  function onSnapshot(msg) {
    S.judge = msg.judge; S.items = msg.items; S.marks = {};
    msg.scores.forEach(function (s) { S.marks[Q.markKey(s.item, s.seat, s.criterion)] = { value: s.value, version: s.version }; });
    persist();
    render();
  }
  function onMessage(msg) {
    var it = S.items.filter(function (i) { return i.code === msg.item; })[0];
    if (msg.type === "error") {
      // a message the server could not read at all: if it names one of ours, that op can never be applied
      if (msg.op_id !== null && msg.op_id !== undefined && queue.remove(msg.op_id)) {
        banner(t("dropped", { message: message(msg) }), "bad");
        persist();
        render();
      }
      return;
    }
    if (msg.type === "ack" || msg.type === "nack") {
      var op = queue.remove(msg.op_id);
      if (!op) return;  // a reply already handled (the same op sent on an earlier connection)
      if (msg.type === "nack" && MALFORMED.indexOf(msg.code) >= 0) {
        // refused as sent (a bad value, a broken field): gone from the queue, and the judge is told, since
        // the seat it names may not even be on this page
        banner(t("dropped", { message: message(msg) }), "bad");
      }
      if (op.kind === "submit_sheet") {
        if (msg.type === "ack" && it) it.submitted = true;  // the sheet itself says so
        else banner(message(msg), "bad");
      } else if (op.kind === "hand_in") {
        if (msg.type === "ack" && it) {
          it.handed_in = it.handed_in || {};
          it.handed_in[op.seat] = msg.seconds;
          banner(t("handed_in_done", { seat: op.seat, time: clock(msg.seconds) }), "ok");
        } else if (msg.type === "nack") banner(message(msg), "bad");
      } else if (op.kind === "keep_mark") {
        if (msg.type === "ack" || msg.code === "unknown_remark") dropRemarks(op.item, [op.remark]);
        if (msg.type === "ack") banner(t("kept"), "ok"); else banner(message(msg), "bad");
      } else {
        var key = Q.markKey(op.item, op.seat, op.criterion);
        if (msg.type === "ack") {
          S.marks[key] = { value: msg.value, version: msg.version };
          delete S.notes[key];
          if (msg.resolved) dropRemarks(op.item, msg.resolved);  // the change answered the chief judge's request
        } else if (msg.code === "stale_version" && msg.current) {
          // never overwrite silently: show the server's value and ask the judge
          S.marks[key] = { value: msg.current.value, version: msg.current.version };
          S.notes[key] = { kind: "conflict", mine: op.value, value: msg.current.value, version: msg.current.version };
        } else {
          S.notes[key] = { kind: "refused", message: message(msg) };
          if (msg.code === "sheet_submitted" && (it = S.items.filter(function (i) { return i.code === op.item; })[0])) {
            it.submitted = true;
          }
        }
      }
    } else if (msg.type === "remark" && it) {
      if (!it.remarks.some(function (r) { return r.id === msg.id; })) it.remarks.push(msg);
    } else if (msg.type === "remark_resolved" && it) {
      // answered here or on another device, or closed by the chief judge: the request comes down everywhere
      var had = it.remarks.some(function (r) { return r.id === msg.id; });
      dropRemarks(msg.item, [msg.id]);
      if (had && msg.resolution === "closed") {
        banner(t("remark_closed", { seat: msg.seat, criterion: criterionName(it, msg.criterion) }), "ok");
      }
    } else if ((msg.type === "locked" || msg.type === "unlocked") && it) {
      it.criteria.forEach(function (c) {
        if (msg.criterion === null || msg.criterion === undefined || msg.criterion === c.code) c.locked = msg.type === "locked";
      });
    } else if (msg.type === "reopened" && it) {
      it.submitted = false;
      banner(t("reopened"), "ok");
    }
    persist();
    render();
  }
  function message(msg) { return (EN && msg.message_en) || msg.message || msg.code; }
  var MALFORMED = ["invalid_op", "invalid_score", "unknown_op"];

  // ---- drawing ---------------------------------------------------------------------------------------------
  var bannerTimer = null;
  function banner(text, kind) {
    var b = $("banner");
    b.textContent = text; b.dataset.kind = kind || "info"; b.hidden = !text;
    clearTimeout(bannerTimer);  // good news fades; a refusal stays until the next message
    if (kind === "ok") bannerTimer = setTimeout(function () { b.hidden = true; }, 8000);
  }
  function warnStorage() { banner(t("storage_failed"), "bad"); }
  function setNet(state, detail) {
    S.net = state;
    var net = $("net");
    net.dataset.state = state;
    $("net-text").textContent = t(state === "online" ? "online" : state === "offline" ? "offline" : "connecting") +
      (state === "offline" && detail && detail.busy ? " · " + t("server_busy") : "") +
      (state === "offline" && detail && detail.retryIn ? " · " + t("retry_in", { s: detail.retryIn }) : "");
    pending();
  }
  function pending() {
    var p = $("pending");
    p.dataset.n = queue.ops.length;
    p.textContent = t("pending", { n: queue.ops.length });
  }

  function render() {
    var it = item();
    if ($("loading")) $("loading").hidden = S.items.length > 0 || !S.judge;
    if (S.judge) $("judge-name").textContent = S.judge.name;
    var tabs = $("tabs");
    tabs.textContent = "";
    S.items.forEach(function (i) {
      tabs.appendChild(el("button", { type: "button", role: "tab", "class": "t-tab", "aria-selected": String(i === it),
        text: i.name, on: { click: function () { S.view = { item: i.code }; persist(); render(); } } }));
    });
    pending();
    if (!it) {
      $("seats").textContent = ""; $("bar").hidden = true; $("remarks").hidden = true; built = "";
      if (S.judge) { $("sheet").textContent = ""; $("sheet").appendChild(el("p", { "class": "t-empty", text: t("no_items") })); }
      return;
    }
    if (it.seats.indexOf(S.view.seat) < 0) S.view = { item: it.code, seat: it.seats[0] };
    drawSeats(it);
    drawRemarks(it);
    drawSheet(it, S.view.seat);
  }

  function seatSummary(it, seat) {
    var done = 0, total = 0, waiting = false, problem = false;
    it.criteria.forEach(function (c) {
      var key = Q.markKey(it.code, seat, c.code), state = markState(key);
      if (c.kind !== "deduction") { total++; if (shown(key) !== "" && state !== "draft") done++; }
      waiting = waiting || state === "waiting" || state === "draft";
      problem = problem || state === "conflict" || state === "refused";
    });
    var remark = it.remarks.some(function (r) { return r.seat === seat; });
    var state = problem ? "problem" : remark ? "remark" : waiting ? "waiting" : done === total ? "done" : done ? "partial" : "none";
    return { done: done, total: total, state: state };
  }
  /* The judge's own total for a seat, in hundredths; deductions subtract. Informational only. */
  function seatTotal(it, seat) {
    var sum = 0;
    it.criteria.forEach(function (c) {
      var check = Q.checkMark(shown(Q.markKey(it.code, seat, c.code)), c.max);
      if (check.ok && check.value !== null) sum += (c.kind === "deduction" ? -1 : 1) * Q.toHundredths(check.value);
    });
    return Q.formatHundredths(sum);
  }

  function drawSeats(it) {
    var seats = $("seats");
    seats.textContent = "";
    seats.appendChild(el("h2", { "class": "t-caption", text: t("seats") }));
    if (!it.seats.length) { seats.appendChild(el("p", { "class": "t-muted", text: t("no_seats") })); return; }
    var grid = el("div", { "class": "t-grid" });
    it.seats.forEach(function (seat) {
      var sum = seatSummary(it, seat);
      grid.appendChild(el("button", { type: "button", "class": "t-seat", "data-seat": seat, "data-state": sum.state,
        "aria-pressed": String(seat === S.view.seat),
        on: { click: function () { S.view = { item: it.code, seat: seat }; persist(); render(); } } }, [
        el("span", { "class": "t-seat-no", text: seat }),
        el("span", { "class": "t-seat-count", text: sum.done + "/" + sum.total })]));
    });
    seats.appendChild(grid);
  }

  function drawRemarks(it) {
    var box = $("remarks");
    box.textContent = "";
    box.hidden = !it.remarks.length;
    if (!it.remarks.length) return;
    box.appendChild(el("h2", { text: "⚑ " + t("remarks") }));
    box.appendChild(el("p", { "class": "t-remarks-note", text: t("remark_how") }));
    it.remarks.forEach(function (r) {
      box.appendChild(el("div", { "class": "t-remark-item", "data-remark": r.id }, [
        el("button", { type: "button", "class": "t-remark", "data-seat": r.seat,
          text: t("remark_line", { seat: r.seat, criterion: criterionName(it, r.criterion), message: r.message }),
          on: { click: function () { S.view = { item: it.code, seat: r.seat }; persist(); render(); } } }),
        keepButton(it, r)]));
    });
  }

  function keepButton(it, r) {
    var waiting = keeping(r.id);
    return el("button", { type: "button", "class": "t-button t-keep", "data-remark": r.id,
      disabled: waiting && "disabled", text: waiting ? t("keep_waiting") : t("keep_mark"),
      on: { click: function () { keepMark(it, r); } } });
  }

  // the sheet is rebuilt only when its shape changes: an ack arriving while the judge types must not take the
  // focus (and the on-screen keyboard) away; otherwise the rows are updated in place
  var built = "", rows = {};
  function drawSheet(it, seat) {
    var shape = [it.code, seat, it.submitted, queue.submitFor(it.code)].concat(it.criteria.map(function (c) {
      return c.code + c.locked;
    })).join("/");
    if (shape !== built) buildSheet(it, seat);
    built = shape;
    it.criteria.forEach(function (c) { updateRow(it, c, seat); });
    $("seat-total").textContent = t("total") + "：" + seatTotal(it, seat);
    drawHandIn(it, seat);
    var bar = $("bar"), closed = it.submitted || queue.submitFor(it.code);
    bar.hidden = false;
    var done = 0, total = 0;
    it.seats.forEach(function (x) { var sum = seatSummary(it, x); done += sum.done; total += sum.total; });
    $("total").textContent = t("progress", { item: it.name, done: done, total: total }) + " · " + t("total_note");
    $("submit-open").hidden = closed;
    $("sheet-state").hidden = !closed;
    $("sheet-state").textContent = closed ? t(it.submitted ? "submitted" : "submitting") : "";
  }

  function buildSheet(it, seat) {
    var sheet = $("sheet");
    sheet.textContent = "";
    rows = {};
    sheet.appendChild(el("div", { "class": "t-sheet-head" }, [
      el("h2", { "class": "t-seat-title", text: t("seat", { seat: seat }) }),
      el("button", { type: "button", "class": "t-button t-hand-in", id: "hand-in",
        on: { click: function () { handIn(it, seat); } } }),
      el("span", { "class": "t-seat-total", id: "seat-total" })]));
    sheet.appendChild(el("p", { "class": "t-closed", id: "sheet-state", hidden: "hidden" }));
    it.criteria.forEach(function (c, n) {
      var key = Q.markKey(it.code, seat, c.code), locked = readOnly(it, c), entry;
      var r = { key: key, status: el("div", { "class": "t-status", "aria-live": "polite" }),
        error: el("div", { "class": "t-error" }), conflict: el("div", { "class": "t-conflict", hidden: "hidden" }),
        remark: el("div", { "class": "t-row-remark", hidden: "hidden" }), buttons: [] };
      if (isScale(c)) {
        entry = el("div", { "class": "t-scale", role: "group" });
        ["0", "1", "2", "3"].forEach(function (v) {
          var b = el("button", { type: "button", "class": "t-scale-b", "data-value": v, text: v, disabled: locked && "disabled",
            on: { click: function () { commit(it, c, seat, v); } } });
          r.buttons.push(b); entry.appendChild(b);
        });
      } else {
        r.input = entry = el("input", { "class": "t-input", type: "text", inputmode: "decimal", autocomplete: "off",
          enterkeyhint: n + 1 < it.criteria.length ? "next" : "done", "aria-label": c.code + " " + c.name,
          "data-criterion": c.code, readonly: locked && "readonly", placeholder: !locked && "0–" + c.max });
        entry.addEventListener("input", function () {
          S.drafts[key] = entry.value; store.set("drafts", S.drafts); drawSheet(it, seat); drawSeats(it);
        });
        // leaving the field commits a draft, also one restored after a reload (no "change" event for that)
        entry.addEventListener("blur", function () { if (S.drafts[key] !== undefined) commit(it, c, seat, entry.value); });
        entry.addEventListener("keydown", function (ev) {
          if (ev.key !== "Enter") return;
          ev.preventDefault();
          var inputs = Array.prototype.slice.call(sheet.querySelectorAll(".t-input:not([readonly])"));
          var next = inputs[inputs.indexOf(entry) + 1];
          if (next) next.focus(); else entry.blur();
        });
      }
      var kind = c.kind === "deduction" ? t("deduction") : t("kind_" + c.kind);
      var row = el("div", { "class": "t-row", "data-criterion": c.code }, [
        el("div", { "class": "t-crit" }, [
          el("span", { "class": "t-code", text: c.code }), el("span", { "class": "t-name", text: c.name }),
          el("span", { "class": "t-kind t-kind-" + c.kind, text: kind }),
          el("span", { "class": "t-max", text: isScale(c) ? t("scale") : t("max", { max: c.max }) }),
          c.locked ? el("span", { "class": "t-lock", text: t("locked") }) : null]),
        el("div", { "class": "t-entry" }, [entry, r.status]), r.error, r.conflict, r.remark]);
      r.row = row;
      rows[c.code] = r;
      sheet.appendChild(row);
    });
  }

  function updateRow(it, c, seat) {
    var r = rows[c.code];
    if (!r) return;
    var key = r.key, state = markState(key), value = shown(key), note = S.notes[key], mark = S.marks[key];
    r.row.dataset.state = state;
    if (r.input && document.activeElement !== r.input && r.input.value !== value) r.input.value = value;
    r.buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(value !== "" && Q.toHundredths(value) === Q.toHundredths(b.dataset.value)));
    });
    var status = { saved: mark ? t("saved", { v: mark.version }) : "", waiting: t("waiting"), draft: t("draft"),
      refused: t("refused"), conflict: "⚠", none: "" }[state];
    r.status.textContent = status;
    r.status.dataset.state = state;
    var check = S.drafts[key] !== undefined ? Q.checkMark(S.drafts[key], c.max) : { ok: true };
    var error = !check.ok ? t(check.error, check.args) : state === "refused" ? note.message : "";
    r.error.textContent = error;
    r.error.hidden = !error;
    r.conflict.hidden = state !== "conflict";
    r.conflict.textContent = "";
    if (state === "conflict") {
      var cur = note.value === null ? t("empty") : note.value, mine = note.mine === null ? t("empty") : note.mine;
      r.conflict.appendChild(el("p", { text: t("conflict", { value: cur, v: note.version, mine: mine }) }));
      r.conflict.appendChild(el("div", { "class": "t-actions" }, [
        el("button", { type: "button", "class": "t-button", "data-action": "keep", text: t("keep_current", { value: cur }),
          on: { click: function () { delete S.notes[key]; delete S.drafts[key]; persist(); render(); } } }),
        el("button", { type: "button", "class": "t-button t-primary", "data-action": "mine", text: t("use_mine", { mine: mine }),
          on: { click: function () { commit(it, c, seat, note.mine === null ? "" : note.mine); } } })]));
    }
    var remarks = it.remarks.filter(function (x) { return x.seat === seat && x.criterion === c.code; });
    r.remark.hidden = !remarks.length;
    r.remark.textContent = "";
    remarks.forEach(function (x) {
      r.remark.appendChild(el("div", { "class": "t-row-remark-line" }, [
        el("span", { text: "⚑ " + x.message }), keepButton(it, x)]));
    });
  }

  function wireDialog() {
    var dialog = $("submit-dialog"), sig = $("signature");
    $("signature-label").textContent = t("signature");
    $("submit-cancel").textContent = t("cancel");
    $("submit-confirm").textContent = t("confirm_submit");
    $("submit-warning").textContent = t("submit_warning");
    $("submit-open").addEventListener("click", function () {
      var it = item();
      if (!it) return;
      var done = 0, total = 0, missing = 0;
      it.seats.forEach(function (seat) {
        var s = seatSummary(it, seat);
        done += s.done; total += s.total; missing += s.total - s.done;
      });
      $("submit-summary").textContent = t("submit_summary", { item: it.name, seats: it.seats.length, done: done, total: total });
      $("submit-missing").hidden = !missing;
      $("submit-missing").textContent = t("submit_missing", { n: missing });
      $("submit-pending").hidden = !queue.ops.length;
      $("submit-pending").textContent = t("submit_pending", { n: queue.ops.length });
      $("signature-error").hidden = true;
      sig.value = "";
      dialog.hidden = false;
      sig.focus();
    });
    $("submit-cancel").addEventListener("click", function () { dialog.hidden = true; });
    $("submit-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var it = item(), name = sig.value.trim();
      if (!name) { $("signature-error").textContent = t("signature_needed"); $("signature-error").hidden = false; return; }
      if (!it) return;
      // a draft left in a field (typed, never committed) is saved before the signature, or stops it if invalid
      var drafts = Object.keys(S.drafts).filter(function (k) { return k.split("|")[0] === it.code; });
      var bad = drafts.filter(function (k) {
        var c = it.criteria.filter(function (x) { return x.code === k.split("|")[2]; })[0];
        return !c || !Q.checkMark(S.drafts[k], c.max).ok;
      });
      if (bad.length) {
        $("signature-error").textContent = t("drafts_invalid", { n: bad.length, seats: bad.map(function (k) {
          return k.split("|")[1] + " " + k.split("|")[2]; }).join("、") });
        $("signature-error").hidden = false;
        return;
      }
      drafts.forEach(function (k) {
        var parts = k.split("|"), c = it.criteria.filter(function (x) { return x.code === parts[2]; })[0];
        commit(it, c, parts[1], S.drafts[k]);
      });
      dialog.hidden = true;
      submitSheet(it, name);
    });
  }

  var link = new Q.Link((location.protocol === "https:" ? "wss://" : "ws://") + location.host + body.dataset.ws, queue,
    { snapshot: onSnapshot, message: onMessage, state: setNet, expired: expired });

  function expired(code, reason) {
    setNet("offline");
    $("expired-title").textContent = t("expired_title");
    $("expired-text").textContent = t(reason === "link revoked" ? "expired_revoked" :
      reason === "signed out" ? "expired_signed_out" :
      code === 4403 ? "expired_403" : "expired_401");
    $("expired").hidden = false;
  }

  window.addEventListener("online", function () { link.now(); });
  // the browser knows the network is gone: stop trusting a socket that may linger half-open
  window.addEventListener("offline", function () { link.drop(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    if (link.ready) link.hello(); else link.now();  // a tablet that slept may have missed remarks or locks
  });
  // test hooks: Playwright's offline mode does not always cut an open websocket
  window.__tablet = {
    dropSocket: function () { link.drop(); },
    reconnect: function () { link.now(); },
    state: function () { return { net: S.net, pending: queue.ops.length, ready: link.ready }; }
  };
  wireDialog();
  if (!store.ok) warnStorage();
  render();
  link.connect();
})();
