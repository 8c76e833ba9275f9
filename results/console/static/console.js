/* The chief judge's console: the websocket /ws/console/{event} (snapshot, then the event's changes stamped with
   the audit seq), the live matrix, the actions (JSON POSTs with the CSRF token of /api/me) and the charts as
   inline SVG. The server's snapshot is the truth: a gap in seq, a reconnect or any change of the current item
   asks for a fresh one; in between, a mark that arrives updates its cell at once. */
(function () {
  "use strict";
  var body = document.body;
  var EVENT = body.dataset.event;
  var T = JSON.parse(document.getElementById("console-text").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var state = { item: body.dataset.item, snap: null, seq: 0, awaiting: false, buffer: [], csrf: null,
                flash: {}, sock: null, retry: 0, refreshTimer: null, resyncTimer: null };

  function t(key, values) {
    var text = T[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "cls") node.className = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVGNS, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function net(stateName, key) { $("net").dataset.state = stateName; $("net-text").textContent = t(key); }
  function toast(text, bad) {
    var box = $("toast"); box.textContent = text; box.className = "c-toast show" + (bad ? " bad" : "");
    clearTimeout(toast.timer); toast.timer = setTimeout(function () { box.className = "c-toast"; }, 3500);
  }
  function message(err) { return (body.dataset.lang === "en" && err.message_en) || err.message || err.code || "?"; }

  /* ---- websocket ---- */
  function connect() {
    net("connecting", "connecting");
    var url = location.origin.replace(/^http/, "ws") + "/ws/console/" + EVENT + "?item=" + encodeURIComponent(state.item);
    var sock = new WebSocket(url);
    state.sock = sock; state.awaiting = true; state.buffer = [];
    // the backoff restarts with a snapshot, not with the open: a server whose database is away accepts and
    // closes at once (1013), and a reset on open would retry twice a second

    sock.onmessage = function (ev) { receive(JSON.parse(ev.data)); };
    sock.onclose = function (ev) {
      if (state.sock !== sock) return;
      if (ev.code === 4401) { net("offline", "signed_out"); location.href = body.dataset.login; return; }
      if (ev.code === 4403) { net("offline", "forbidden"); return; }
      net("offline", "offline");
      var wait = Math.min(15000, 500 * Math.pow(2, state.retry++));
      setTimeout(connect, wait);
    };
  }
  function send(msg) { if (state.sock && state.sock.readyState === 1) state.sock.send(JSON.stringify(msg)); }
  function resync(why) {  // `why` (gap | refresh | resync) only tells a reader of the frames why it asked
    if (state.awaiting) return;
    state.awaiting = true; state.buffer = []; net("connecting", "resync");
    send({ type: "hello", item: state.item, why: why });
  }
  /* The server lost live messages (Redis went away and came back): re-read within a second (every console hears
     it at once, and twice: its event's channel and its account's). A snapshot already on its way may have been
     read before what was lost: ask again after it. */
  function resyncSoon() {
    if (state.resyncTimer) return;
    state.resyncTimer = setTimeout(function () {
      state.resyncTimer = null;
      if (state.awaiting) resyncSoon(); else resync("resync");
    }, Math.random() * 1000);
  }
  function refreshSoon() {  // findings, charts and ranking come from the server: ask once a burst settles
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(function () { resync("refresh"); }, 400);
  }
  setInterval(function () { send({ type: "ping", t: Date.now() }); }, 15000);

  function receive(msg) {
    if (msg.type === "snapshot") {
      state.retry = 0;
      state.snap = msg; state.item = msg.item.code; state.seq = msg.seq; state.awaiting = false;
      history.replaceState(null, "", "?item=" + encodeURIComponent(state.item));
      var held = state.buffer; state.buffer = [];
      render();
      net("online", "online");
      held.forEach(change);  // what was published while the snapshot was being read
      return;
    }
    if (msg.type === "pong") return;
    if (msg.type === "resync") { resyncSoon(); return; }
    if (msg.type === "error") { toast(t("error", { message: message(msg) }), true); state.awaiting = false; return; }
    if (typeof msg.seq !== "number") return;
    if (state.awaiting) { state.buffer.push(msg); return; }
    change(msg);
  }

  function change(msg) {
    if (msg.seq <= state.seq) return;  // already in the snapshot
    if (msg.seq > state.seq + 1) { resync("gap"); return; }  // a message was lost: the snapshot is the authority
    state.seq = msg.seq;
    if (msg.item !== state.item) return;
    if (msg.type === "score") {
      var scores = state.snap.scores, found = false;
      scores.forEach(function (s) {
        if (s.seat === msg.seat && s.criterion === msg.criterion && s.judge_id === msg.judge_id) {
          if (msg.version >= s.version) { s.value = msg.value; s.version = msg.version; }
          found = true;
        }
      });
      if (!found) scores.push({ seat: msg.seat, criterion: msg.criterion, judge_id: msg.judge_id, value: msg.value, version: msg.version });
      state.flash[key(msg.seat, msg.criterion, msg.judge_id)] = Date.now();
      updateCell(msg.seat, msg.criterion, msg.judge_id);
    } else if (msg.type === "handed_in") {  // 交卷 on a tablet or another console
      state.snap.times = state.snap.times || {};
      state.snap.times[msg.seat] = msg.seconds;
      renderMatrix();
    } else if (msg.type === "remark_resolved") {  // off the open list at once; the refresh brings the rest
      state.snap.remarks = state.snap.remarks.filter(function (r) { return r.id !== msg.id; });
      state.snap.remarks_resolved = [{ id: msg.id, seat: msg.seat, criterion: msg.criterion, judge_id: msg.judge_id,
        resolution: msg.resolution, resolved_by: msg.by, note: msg.note }].concat(state.snap.remarks_resolved || []);
      renderFindings();
      updateCell(msg.seat, msg.criterion, msg.judge_id);
    }
    refreshSoon();
  }

  /* ---- actions ---- */
  function csrf() {
    if (state.csrf) return Promise.resolve(state.csrf);
    return fetch("/api/me", { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) { location.href = body.dataset.login; throw new Error("signed out"); }
      return r.json();
    }).then(function (me) { state.csrf = me.csrf_token; return state.csrf; });
  }
  function post(path, payload) {
    return csrf().then(function (token) {
      return fetch("/api/console/events/" + EVENT + "/items/" + encodeURIComponent(state.item) + path, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify(payload || {})
      });
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) throw data;
        refreshSoon();
        return data;
      });
    });
  }
  function act(path, payload, done) {
    return post(path, payload).then(function () { toast(done || t("done")); },
      function (err) { toast(t("error", { message: message(err) }), true); });
  }

  /* A small dialog for the actions that need words: the reason of an unlock or reopen, a re-mark message. */
  function ask(title, detail, label, okText, run, valueLabel) {
    var dialog = $("dialog");
    $("dialog-title").textContent = title; $("dialog-detail").textContent = detail || "";
    // 裁定扣分 also asks for a figure; every other dialog is words only
    $("dialog-value-row").hidden = !valueLabel; $("dialog-value").value = "";
    $("dialog-value-label").textContent = valueLabel || "";
    $("dialog-label").textContent = label; $("dialog-text").value = ""; $("dialog-error").textContent = "";
    $("dialog-ok").textContent = okText; $("dialog-cancel").textContent = t("cancel");
    $("dialog-cancel").onclick = function () { dialog.close(); };
    $("dialog-form").onsubmit = function (ev) {
      ev.preventDefault();
      var text = $("dialog-text").value.trim(), value = $("dialog-value").value.trim();
      if (valueLabel && !value) { $("dialog-error").textContent = t("rule_value_needed"); return; }
      if (!text) { $("dialog-error").textContent = t("reason_needed"); return; }
      run(text, value).then(function () { dialog.close(); },
        function (err) { $("dialog-error").textContent = t("error", { message: message(err) }); });
    };
    dialog.showModal();
    $(valueLabel ? "dialog-value" : "dialog-text").focus();
  }
  function withReason(path, title) {
    ask(title, "", t("reason"), t("confirm"), function (reason) {
      return post(path, { reason: reason }).then(function () { toast(t("done")); });
    });
  }

  /* ---- rendering ---- */
  function key(seat, code, judge) { return seat + "|" + code + "|" + judge; }
  function judgesOf(code) {
    var snap = state.snap, marked = {};
    snap.scores.forEach(function (s) { if (s.criterion === code) marked[s.judge_id] = true; });
    return snap.judges.filter(function (j) {
      return marked[j.id] || (j.role === "judge" && (!j.criteria.length || j.criteria.indexOf(code) >= 0));
    });
  }
  function findingsAt(seat, code) {
    return state.snap.findings.filter(function (f) { return f.seat === seat && f.criterion === code; });
  }
  function rulingAt(seat, code) {
    return (state.snap.rulings || []).filter(function (r) { return r.seat === seat && r.criterion === code; })[0];
  }
  function judgeName(id) {
    var j = state.snap.judges.filter(function (x) { return x.id === id; })[0];
    return j ? j.name : "#" + id;
  }

  function render() {
    var snap = state.snap;
    renderItems(); renderBar(); renderMatrix(); renderJudges(); renderFindings();
    $("severity-note").textContent = t("severity_note");
    $("distribution-note").textContent = t("distribution_note");
    renderSeverity(); renderDistribution(); renderRanking();
    $("no-seats").hidden = snap.seats.length > 0;
  }

  function renderItems() {
    var nav = $("items"); nav.textContent = "";
    state.snap.items.forEach(function (it) {
      nav.appendChild(el("a", { href: "?item=" + encodeURIComponent(it.code), cls: it.code === state.item ? "on" : "",
        text: it.code, title: it.name, onclick: function (ev) {
          ev.preventDefault(); if (it.code === state.item) return;
          state.awaiting = true; state.buffer = []; state.item = it.code; send({ type: "hello", item: it.code });
        } }));
    });
  }

  function renderBar() {
    var snap = state.snap, item = snap.item;
    $("item-name").textContent = item.name + " (" + item.code + ")";
    document.title = document.title.split(" · ")[0] + " · " + item.name;
    var lock = $("item-lock");
    lock.textContent = item.locked ? t("item_locked", { by: item.locked_by || "" }) : t("item_open");
    if (item.revealed_layer) lock.textContent += " · " + t("revealed", { n: item.revealed_layer });
    lock.className = "c-lock" + (item.locked ? " on" : "");
    var button = $("item-lock-button");
    button.textContent = item.locked ? t("unlock_item") : t("lock_item");
    button.className = "c-btn" + (item.locked ? "" : " c-primary");
    button.onclick = function () {
      if (item.locked) withReason("/unlock", t("unlock_item_title"));
      else act("/lock", {});
    };
    var count = { spread_exceeded: 0, measurement_disagreement: 0, deduction_disagreement: 0, missing_marks: 0 };
    snap.findings.forEach(function (f) { count[f.code] = (count[f.code] || 0) + 1; });
    $("counts").textContent = t("n_findings", { spread: count.spread_exceeded,
                                               disagree: count.measurement_disagreement + count.deduction_disagreement,
                                               missing: count.missing_marks });
    var judges = snap.judges.filter(function (j) { return j.role === "judge"; });
    $("sheets").textContent = t("sheets", { n: judges.filter(function (j) { return j.submitted; }).length, total: judges.length });
  }

  function renderMatrix() {
    var snap = state.snap, table = $("matrix");
    table.textContent = "";
    var head1 = el("tr", {}, [el("th", { rowspan: "2", cls: "seat", text: t("seat") })]);
    var head2 = el("tr");
    snap.criteria.forEach(function (c) {
      var cols = judgesOf(c.code);
      var lockButton = el("button", { type: "button", cls: "c-mini" + (c.locked ? " on" : ""),
        text: c.locked ? t("unlock") : t("lock"), title: c.locked ? t("locked") + " · " + (c.locked_by || "") : t("unlocked"),
        onclick: function () {
          if (c.locked) withReason("/criteria/" + encodeURIComponent(c.code) + "/unlock", t("unlock_criterion_title", { code: c.code }));
          else act("/criteria/" + encodeURIComponent(c.code) + "/lock", {});
        } });
      head1.appendChild(el("th", { colspan: String(Math.max(cols.length, 1)), cls: "crit kind-" + c.kind + (c.locked ? " locked" : "") }, [
        el("span", { cls: "code", text: c.code }), " ", el("span", { cls: "name", text: c.name }),
        el("span", { cls: "max", text: "/" + c.max + (c.max_spread ? " · Δ≤" + c.max_spread : "") }), " ",
        c.locked ? el("span", { cls: "lock-badge", text: t("locked") }) : null, lockButton]));
      if (!cols.length) head2.appendChild(el("th", { cls: "judge", text: "—" }));
      cols.forEach(function (j, k) { head2.appendChild(el("th", { cls: "judge" + (k === 0 ? " first" : ""), text: j.name })); });
    });
    table.appendChild(el("thead", {}, [head1, head2]));
    var tbody = el("tbody");
    snap.seats.forEach(function (seat) {
      var row = el("tr", {}, [el("th", { cls: "seat" }, [seat, handInButton(seat)])]);
      snap.criteria.forEach(function (c) {
        var cols = judgesOf(c.code);
        if (!cols.length) row.appendChild(el("td", { cls: "first", text: "" }));
        cols.forEach(function (j, k) {
          var td = el("td", { "data-key": key(seat, c.code, j.id) });
          if (k === 0) td.classList.add("first");
          row.appendChild(td);
          paintCell(td, seat, c, j);
        });
      });
      tbody.appendChild(row);
    });
    table.appendChild(tbody);
  }

  function clock(seconds) {  // 用时 as h:mm:ss
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), sec = seconds % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (sec < 10 ? "0" : "") + sec;
  }
  /* 交卷: the contestant hands in now; once recorded, the seat shows the time used instead. */
  function handInButton(seat) {
    var used = (state.snap.times || {})[seat];
    if (used !== undefined && used !== null) {
      return el("span", { cls: "c-handed", "data-seat": seat, text: t("handed_in", { time: clock(used) }) });
    }
    if (state.snap.item.locked) return null;
    return el("button", { type: "button", cls: "c-mini c-hand-in", "data-seat": seat, text: t("hand_in"),
      onclick: function () {
        if (!window.confirm(t("hand_in_confirm", { seat: seat }))) return;
        post("/seats/" + encodeURIComponent(seat) + "/hand-in", {}).then(function (done) {
          state.snap.times = state.snap.times || {};
          state.snap.times[seat] = done.seconds;
          toast(t("handed_in_done", { seat: seat, time: clock(done.seconds) }));
          renderMatrix();
        }, function (err) { toast(t("error", { message: message(err) }), true); });
      } });
  }

  function scoreOf(seat, code, judge) {
    return state.snap.scores.filter(function (s) { return s.seat === seat && s.criterion === code && s.judge_id === judge; })[0];
  }

  function paintCell(td, seat, c, j) {
    var score = scoreOf(seat, c.code, j.id), here = findingsAt(seat, c.code);
    var remark = state.snap.remarks.filter(function (r) { return r.seat === seat && r.criterion === c.code && r.judge_id === j.id; })[0];
    td.className = td.classList.contains("first") ? "first" : "";
    td.textContent = score && score.value !== null ? score.value : "";
    var title = [j.name + " · " + seat + " · " + c.code];
    here.forEach(function (f) {
      if (f.code === "missing_marks" && f.judges.indexOf(j.id) >= 0) { td.classList.add("missing"); title.push(t("missing")); }
      if (f.code === "spread_exceeded") { td.classList.add("spread"); title.push(message(f)); }
      if (f.code === "measurement_disagreement" || f.code === "deduction_disagreement") {
        td.classList.add("disagree"); title.push(message(f));
      }
    });
    var ruled = rulingAt(seat, c.code);
    if (ruled) { td.classList.add("ruled"); title.push(t("ruled", { value: ruled.value })); }
    if (remark) {
      td.classList.add(remark.answered ? "remark-answered" : "remark");
      title.push(remark.answered ? t("remark_answered") : t("remark_open", { message: remark.message }));
    }
    if (c.locked || state.snap.item.locked) td.classList.add("locked");
    var flashed = state.flash[key(seat, c.code, j.id)];
    if (flashed && Date.now() - flashed < 1500) {  // a re-render keeps a fresh mark's highlight for its 1.5 s
      td.classList.add("flash");
      setTimeout(function () { td.classList.remove("flash"); }, 1500 - (Date.now() - flashed));
    }
    td.title = title.join("\n");
    td.tabIndex = 0;
    td.onclick = function () { remarkDialog(seat, c, j); };
    td.onkeydown = function (ev) { if (ev.key === "Enter") remarkDialog(seat, c, j); };
  }

  function updateCell(seat, code, judge) {
    var td = document.querySelector('td[data-key="' + CSS.escape(key(seat, code, judge)) + '"]');
    var c = state.snap.criteria.filter(function (x) { return x.code === code; })[0];
    var j = state.snap.judges.filter(function (x) { return x.id === judge; })[0];
    if (!td || !c || !j) { renderMatrix(); return; }
    paintCell(td, seat, c, j);
    td.classList.remove("flash"); void td.offsetWidth; td.classList.add("flash");  // restart the highlight
    setTimeout(function () { td.classList.remove("flash"); }, 1500);
  }

  function remarkDialog(seat, c, j) {
    var score = scoreOf(seat, c.code, j.id);
    var detail = score && score.value !== null ? t("current", { value: score.value, version: score.version }) : t("no_mark");
    ask(t("remark_title", { name: j.name, seat: seat, code: c.code }), detail, t("message"), t("send"), function (text) {
      return post("/remarks", { judge_id: j.id, seat: seat, criterion: c.code, message: text })
        .then(function () { toast(t("remark_sent")); });
    });
  }

  function renderJudges() {
    var list = $("judges"); list.textContent = "";
    state.snap.judges.forEach(function (j) {
      var li = el("li", { cls: j.submitted ? "signed" : "" }, [
        el("span", { cls: "name", text: j.name }),
        el("span", { cls: "crit", text: j.criteria.length ? j.criteria.join(" ") : "" }),
        el("span", { cls: "state", text: j.submitted ? t("submitted") + (j.signature ? " · " + j.signature : "") : t("not_submitted") })]);
      if (j.submitted) li.appendChild(el("button", { type: "button", cls: "c-mini", text: t("reopen"), onclick: function () {
        withReason("/sheets/" + j.id + "/reopen", t("reopen_title", { name: j.name }));
      } }));
      list.appendChild(li);
    });
  }

  function renderFindings() {
    var list = $("findings"), snap = state.snap; list.textContent = "";
    var shown = snap.findings.filter(function (f) { return f.code !== "missing_marks"; });
    var missing = snap.findings.filter(function (f) { return f.code === "missing_marks"; });
    // an open re-mark request holds publication back: never "nothing needs attention" while one is open
    if (!snap.findings.length && !snap.remarks.length) list.appendChild(el("li", { cls: "ok", text: t("findings_none") }));
    shown.forEach(function (f) {
      list.appendChild(el("li", { cls: f.code }, [el("strong", { text: f.seat + " · " + f.criterion }), " ", message(f),
        f.code === "deduction_disagreement" ? el("button", { type: "button", cls: "c-mini c-rule", text: t("rule"),
          onclick: function () { ruleDialog(f.seat, f.criterion, message(f)); } }) : null]));
    });
    (snap.rulings || []).forEach(function (r) {
      list.appendChild(el("li", { cls: "ruled" }, [el("strong", { text: r.seat + " · " + r.criterion }), " ",
        t("ruled_line", { value: r.value, reason: r.reason, by: r.by }),
        el("button", { type: "button", cls: "c-mini c-rule", text: t("rule_again"),
          onclick: function () { ruleDialog(r.seat, r.criterion, t("ruled", { value: r.value })); } })]));
    });
    if (missing.length) {
      var bySeat = {};
      missing.forEach(function (f) { (bySeat[f.seat] = bySeat[f.seat] || []).push(f.criterion); });
      list.appendChild(el("li", { cls: "missing_marks" }, [el("strong", { text: t("missing") + " " }),
        Object.keys(bySeat).map(function (s) { return s + "(" + bySeat[s].join("") + ")"; }).join(" ")]));
    }
    snap.remarks.forEach(function (r) {
      list.appendChild(el("li", { cls: r.answered ? "remark-answered" : "remark", "data-remark": r.id }, [
        el("strong", { text: r.seat + " · " + r.criterion + " · " + judgeName(r.judge_id) }), " ",
        r.answered ? t("remark_answered") : t("remark_open", { message: r.message }), " ",
        el("button", { type: "button", cls: "c-mini", text: t("close_remark"), onclick: function () { closeDialog(r); } })]));
    });
    var done = $("remarks-done"), past = snap.remarks_resolved || [];
    done.textContent = "";
    $("remarks-done-card").hidden = !past.length;
    past.forEach(function (r) {
      done.appendChild(el("li", { cls: "resolved-" + r.resolution, "data-remark": r.id }, [
        el("strong", { text: r.seat + " · " + r.criterion + " · " + judgeName(r.judge_id) }), " ",
        t("resolved_" + r.resolution) + (r.note ? "：" + r.note : "")]));
    });
  }

  /* 裁定扣分: the judges disagree on a deduction (one saw a violation, another did not): the chief judge records
     the points off, with the reason for the log; results use that figure and the finding goes. */
  function ruleDialog(seat, code, detail) {
    var c = state.snap.criteria.filter(function (x) { return x.code === code; })[0] || { max: "" };
    ask(t("rule_title", { seat: seat, code: code, max: c.max }), detail, t("reason"), t("rule"), function (reason, value) {
      return post("/rulings", { seat: seat, criterion: code, value: value, reason: reason })
        .then(function () { toast(t("ruled_done")); });
    }, t("rule_value", { max: c.max }));
  }

  /* 关闭请求: the chief judge closes a request (sent by mistake, or the change checked), with a note for the log. */
  function closeDialog(r) {
    ask(t("close_title", { name: judgeName(r.judge_id), seat: r.seat, code: r.criterion }),
        t("remark_open", { message: r.message }), t("note"), t("close_remark"), function (note) {
      return post("/remarks/" + r.id + "/close", { note: note }).then(function () { toast(t("remark_closed")); });
    });
  }

  /* Severity: one row per judge and criterion, a bar left (harsher) or right (more lenient) of the panel. */
  function renderSeverity() {
    var box = $("severity"), rows = state.snap.severity; box.textContent = "";
    if (!rows.length) { box.appendChild(el("p", { cls: "c-note", text: "—" })); return; }
    var limit = 1;
    rows.forEach(function (r) { limit = Math.max(limit, Math.abs(parseFloat(r.mean_deviation))); });
    // label column, then a bar area with room for the value text on either side of the zero line
    var W = 600, label = 140, room = 90, H = 22, half = (W - label - 2 * room) / 2, mid = label + room + half;
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + (rows.length * H + 24), width: "100%", role: "img",
                             "aria-label": t("severity_note"), "class": "c-svg" });
    chart.appendChild(svg("line", { x1: mid, x2: mid, y1: 0, y2: rows.length * H + 4, "class": "axis" }));
    rows.forEach(function (r, i) {
      var v = parseFloat(r.mean_deviation), w = Math.abs(v) / limit * half, y = i * H + 4;
      chart.appendChild(svg("text", { x: label - 6, y: y + 14, "text-anchor": "end", "class": "lbl" },
                            judgeName(r.judge_id) + " · " + r.criterion));
      chart.appendChild(svg("rect", { x: v < 0 ? mid - w : mid, y: y + 3, width: Math.max(w, 1), height: H - 8,
                                      "class": v < 0 ? "bar harsh" : "bar lenient" }));
      chart.appendChild(svg("text", { x: v < 0 ? mid - w - 4 : mid + w + 4, y: y + 14, "text-anchor": v < 0 ? "end" : "start",
                                      "class": "val" }, (v > 0 ? "+" : "") + r.mean_deviation + " (n=" + r.n + ")"));
    });
    chart.appendChild(svg("text", { x: mid, y: rows.length * H + 20, "text-anchor": "middle", "class": "lbl" }, "0"));
    box.appendChild(chart);
  }

  function histogram(title, counts, max) {
    var W = 200, H = 90, top = Math.max.apply(null, counts.concat([1])), bw = W / counts.length;
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + (H + 30), width: "100%", role: "img", "aria-label": title, "class": "c-svg" });
    counts.forEach(function (n, i) {
      var h = n / top * H;
      chart.appendChild(svg("rect", { x: i * bw + 1, y: H - h + 12, width: bw - 2, height: h, "class": "bar hist" }));
      if (n) chart.appendChild(svg("text", { x: i * bw + bw / 2, y: H - h + 9, "text-anchor": "middle", "class": "val" }, String(n)));
    });
    chart.appendChild(svg("line", { x1: 0, x2: W, y1: H + 12, y2: H + 12, "class": "axis" }));
    chart.appendChild(svg("text", { x: 0, y: H + 26, "class": "lbl" }, "0"));
    chart.appendChild(svg("text", { x: W, y: H + 26, "text-anchor": "end", "class": "lbl" }, max));
    return el("figure", { cls: "c-hist" }, [chart, el("figcaption", { text: title })]);
  }

  function renderDistribution() {
    var box = $("distribution"), snap = state.snap; box.textContent = "";
    snap.distribution.forEach(function (d) {
      var c = snap.criteria.filter(function (x) { return x.code === d.criterion; })[0];
      box.appendChild(histogram(d.criterion + " " + (c ? c.name : ""), d.counts, d.max));
    });
    if (snap.ranking) box.appendChild(histogram(t("totals"), snap.ranking.totals.counts, snap.ranking.totals.max));
  }

  function renderRanking() {
    var box = $("ranking"), ranking = state.snap.ranking, snap = state.snap; box.textContent = "";
    var notes = [t("ranking_note")];
    if (ranking.pending.length) notes.push(t("pending_seats", { seats: ranking.pending.map(function (p) { return p.seat; }).join(" ") }));
    if ((ranking.time_missing || []).length) notes.push(t("time_missing", { seats: ranking.time_missing.join(" ") }));
    $("ranking-note").textContent = notes.join(" ");
    ranking.groups.forEach(function (g) {
      if (!g.rows.length && !g.absent) return;  // a group nobody is in yet
      if (ranking.groups.length > 1 || g.group) box.appendChild(el("h3", { text: g.group || t("no_group") }));
      if (g.absent) box.appendChild(el("p", { cls: "c-note", text: t("absent", { n: g.absent }) }));
      var head = el("tr", {}, [el("th", { text: t("position") }), el("th", { text: t("rank") }), el("th", { text: t("seat") })]
        .concat(snap.criteria.map(function (c) { return el("th", { cls: "num", text: c.code }); }))
        .concat(["practical", "practical_pct", "total"].map(function (k) { return el("th", { cls: "num", text: t(k) }); }))
        .concat(["qualified", "award"].concat(ranking.levelled === false ? [] : ["cert_level"])
          .map(function (k) { return el("th", { text: t(k) }); })));
      var tbody = el("tbody");
      g.rows.forEach(function (r) {
        var tr = el("tr", { cls: (r.award ? "award " : "") + (r.tie_unresolved ? "tie" : "") }, [
          el("td", { text: String(r.position) }), el("td", { text: String(r.rank) }), el("th", { text: r.seat })]
          .concat(snap.criteria.map(function (c) { return el("td", { cls: "num", text: r.criteria[c.code] || "" }); }))
          .concat([el("td", { cls: "num", text: r.practical }), el("td", { cls: "num", text: r.practical_pct }),
                   el("td", { cls: "num strong", text: r.total }), el("td", { text: r.qualified ? t("yes") : t("no") }),
                   el("td", {}, [r.award ? el("span", { cls: "award-tag", text: r.award }) : null,
                                 r.tie_unresolved ? el("span", { cls: "tie-tag", text: t("tie_unresolved") }) : null])]
            .concat(ranking.levelled === false ? [] :
                    [el("td", { text: r.cert_level === null ? "" : String(r.cert_level) + (r.promoted ? " ↑" : "") })])));
        tbody.appendChild(tr);
      });
      box.appendChild(el("table", { cls: "c-ranking" }, [el("thead", {}, [head]), tbody]));
    });
  }

  connect();
})();
