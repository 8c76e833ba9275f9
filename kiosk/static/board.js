// The results board: a snapshot over the socket, then each publication as it happens (by version: an older
// one never replaces a newer one); rotates through the published items, paging through an item too long for
// the screen; reconnects by itself and asks for a fresh snapshot. Plain JavaScript, no libraries (venues
// have no internet).
//
// Pages are cut from the real layout, not from a row count: the item is laid out on the screen itself, row
// by row, and a row that pushes the footer below the viewport starts the next page. Rows wrap (long unit
// names, teams), screens differ, so no constant would hold. A group cut by a page break says so at the foot
// ("未完，续见下页") and carries its header onto the next page ("（续）"): nobody misses their group's rest.
(function () {
  "use strict";
  var main = document.getElementById("board");
  var status = document.getElementById("status");
  var eventId = main.getAttribute("data-event");
  var rotateSeconds = parseFloat(main.getAttribute("data-rotate")) || 12;  // the least a page stays up
  var secondsPerRow = parseFloat(main.getAttribute("data-per-row")) || 0.75;  // a full page stays longer
  // ?dwell=<seconds>: the same time for every page (tests run through a rotation in seconds; screens keep
  // the default above).
  var dwell = parseFloat(new URLSearchParams(location.search).get("dwell"));
  dwell = isFinite(dwell) && dwell > 0 ? Math.max(dwell, 0.2) : null;
  var HEAD = ["名次", "姓名", "单位", "成绩", "奖项", "晋升"];

  var items = [];          // [{code, name, view}] in the event's order
  var at = { code: null, page: 0 };  // where the rotation is: an item and one of its pages
  var pages = [];          // the current item's pages: each a list of {group, cont, more, rows}
  var timer = null, retry = 0, resizing = null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function visible() { return items.filter(function (i) { return i.view; }); }

  function current() {
    var list = visible();
    return list.filter(function (i) { return i.code === at.code; })[0] || list[0] || null;
  }

  // A 专项职业能力证书 has no level: its items show who qualified for it, never a promotion.
  function levelled(item) { return item.view.certificate !== "special_ability"; }

  function row(r, plain) {
    if (r === null) { return el("tr", { "class": "none" }, [el("td", { colspan: "6" }, ["本组无有效成绩"])]); }
    var last = plain ? (r.qualified ? "合格" : "") : (r.promoted ? "晋升" + (r.cert_level_name || r.cert_level + "级") : "");
    return el("tr", {}, [el("td", {}, [String(r.rank)]), el("td", {}, [r.names.join("、")]), el("td", {}, [r.unit]),
      el("td", {}, r.theory !== undefined ? [r.total || "", el("small", { "class": "parts" }, ["理论 " + r.theory + " · 实操 " + (r.practical || "—")])]
        : [r.total || ""]), el("td", { "class": "award" }, [r.award]), el("td", {}, [last])]);
  }

  // One group's part of a page: its header (with "（续）" when the group began on an earlier page) and a
  // table whose column widths do not depend on its rows, so a row is as tall here as when it was measured.
  function segment(seg) {
    var label = (seg.group || "") + (seg.cont ? "（续）" : "");
    var cols = el("colgroup", {}, ["rank", "name", "unit", "total", "award", "promo"].map(function (c) {
      return el("col", { "class": "c-" + c });
    }));
    var tbody = el("tbody", {}, seg.rows.map(function (r) { return row(r, seg.plain); }));
    var head = seg.plain ? HEAD.slice(0, 5).concat(["证书"]) : HEAD;
    var table = el("table", {}, [cols, el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", {}, [h]); }))]), tbody]);
    var box = el("div", { "class": "group", "data-group": seg.group || "" }, label ? [el("h3", {}, [label]), table] : [table]);
    return { box: box, tbody: tbody };
  }

  // The frame of a page of an item: title, page number, version and notice, the groups, a foot line.
  function frame(item) {
    var v = item.view;
    var label = el("p", { "class": "page" }, ["第 1 / 1 页"]);
    var body = el("div", { "class": "groups" });
    var foot = el("p", { "class": "foot" }, ["\u00a0"]);
    var box = el("section", { "class": "item", "data-item": item.code, "data-version": String(v.version) },
      [el("div", { "class": "title" }, [el("h2", {}, [item.name]), label])]);
    if (v.state !== "published") {
      box.appendChild(el("p", { "class": "withdrawn" }, ["成绩已撤回，更正后将重新公示。"]));
    } else {
      box.appendChild(el("p", { "class": "meta" }, ["第 " + v.version + " 版 · 公示至 " + v.notice.last_day + " 24:00 止"]));
      box.appendChild(body);
    }
    box.appendChild(foot);
    return { box: box, body: body, label: label, foot: foot };
  }

  function bottomLimit() {
    var pad = parseFloat(getComputedStyle(main).paddingBottom) || 0;
    return document.documentElement.clientHeight - pad;
  }

  // Lay the item out on the board row by row and cut it into pages wherever the foot would leave the
  // screen. At least one row goes on every page, so a screen too small for any row still rotates.
  function paginate(item) {
    var v = item.view;
    if (v.state !== "published") { return [[]]; }
    var f = frame(item);
    main.textContent = "";
    main.appendChild(f.box);
    var limit = bottomLimit();
    var out = [], page = [];
    function fits() { return f.foot.getBoundingClientRect().bottom <= limit + 0.5; }
    v.groups.forEach(function (g) {
      var rows = g.rows.length ? g.rows : [null];
      var i = 0, seg = null, built = null;
      while (i < rows.length) {
        if (!seg) {
          seg = { group: g.group, cont: i > 0, more: false, rows: [], plain: !levelled(item) };
          built = segment(seg);
          f.body.appendChild(built.box);
        }
        var tr = row(rows[i], seg.plain);
        built.tbody.appendChild(tr);
        if (fits() || (!page.length && !seg.rows.length)) { seg.rows.push(rows[i]); i += 1; continue; }
        built.tbody.removeChild(tr);
        if (seg.rows.length) { seg.more = true; page.push(seg); } else { f.body.removeChild(built.box); }
        out.push(page);
        page = []; seg = null;
        f.body.textContent = "";
      }
      page.push(seg);
    });
    if (page.length || !out.length) { out.push(page); }
    return out;
  }

  function footText(list, item) {
    var segs = pages[at.page] || [], last = segs[segs.length - 1];
    if (last && last.more) { return (last.group ? last.group + "未完，" : "") + "续见下页"; }
    if (at.page + 1 < pages.length) { return "下页续"; }
    if (list.length > 1) { return "下一项：" + list[(list.indexOf(item) + 1) % list.length].name; }
    return "\u00a0";
  }

  function render() {
    var list = visible(), item = current();
    main.textContent = "";
    if (!item) { main.appendChild(el("p", { "class": "waiting" }, ["成绩尚未发布，发布后将在此显示。"])); return; }
    var f = frame(item);
    (pages[at.page] || []).forEach(function (seg) { f.body.appendChild(segment(seg).box); });
    f.label.textContent = "第 " + (at.page + 1) + " / " + pages.length + " 页";
    f.foot.textContent = footText(list, item);
    f.box.setAttribute("data-page", String(at.page + 1));
    f.box.setAttribute("data-pages", String(pages.length));
    main.appendChild(f.box);
  }

  // Re-cut the current item (new data, another screen size) and stay on the same page where it still exists.
  function refresh() {
    var item = current();
    if (!item) { at = { code: null, page: 0 }; pages = []; render(); return; }
    at.code = item.code;
    pages = paginate(item);
    at.page = Math.min(at.page, pages.length - 1);
    render();
  }

  function seconds() {
    if (dwell) { return dwell; }
    var rows = (pages[at.page] || []).reduce(function (n, seg) { return n + seg.rows.length; }, 0);
    return Math.max(rotateSeconds, rows * secondsPerRow);
  }

  function schedule() {
    clearTimeout(timer);
    timer = current() ? setTimeout(step, seconds() * 1000) : null;
  }

  // The next page of this item, or the first page of the next published item.
  function step() {
    var list = visible(), item = current();
    if (item && at.page + 1 < pages.length) {
      at.page += 1;
      render();
    } else if (item) {
      at = { code: list[(list.indexOf(item) + 1) % list.length].code, page: 0 };
      refresh();
    } else {
      refresh();
    }
    schedule();
  }

  function apply(message, socket) {
    if (message.type === "resync") {  // the server lost live messages (Redis came back): ask for a snapshot
      setTimeout(function () {  // spread over a second: every screen in the hall hears it at once
        if (socket.readyState === 1) { socket.send(JSON.stringify({ type: "hello" })); }
      }, Math.random() * 1000);
      return;
    }
    if (message.type === "snapshot") {  // on connect and after a reconnect: keep the place in the rotation
      retry = 0;  // not on open: a server whose database is away accepts and closes at once (1013)
      items = message.items; refresh();
      if (!timer) { schedule(); }
      return;
    }
    if (message.type === "publication") {
      var known = items.filter(function (i) { return i.code === message.item; })[0];
      if (!known) { known = { code: message.item, name: message.name, view: null }; items.push(known); }
      if (known.view && known.view.version >= message.version) { return; }  // a stale or repeated message
      known.view = message.view;
      at = { code: known.code, page: 0 };  // show what just changed, then rotate on from there
      refresh(); schedule();
    }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/board/" + eventId);
    socket.onopen = function () { status.textContent = "实时更新中"; status.className = "status"; };
    socket.onmessage = function (e) {
      var message;
      try { message = JSON.parse(e.data); } catch (err) { return; }  // ignore a bad frame
      apply(message, socket);
    };
    socket.onclose = function () {
      status.textContent = "连接中断，正在重连…"; status.className = "status off";
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * retry);  // the server sends a full snapshot on the new connection
    };
  }

  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(refresh, 150);
  });
  if (document.fonts && document.fonts.ready) { document.fonts.ready.then(function () { if (pages.length) { refresh(); } }); }
  connect();
}());
