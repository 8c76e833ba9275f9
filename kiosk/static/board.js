// The results board: a snapshot over the socket, then each publication as it happens (by version: an older
// one never replaces a newer one); rotates through the published items; reconnects by itself and asks for
// a fresh snapshot. Plain JavaScript, no libraries (venues have no internet).
(function () {
  "use strict";
  var main = document.getElementById("board");
  var status = document.getElementById("status");
  var eventId = main.getAttribute("data-event");
  var rotateSeconds = parseInt(main.getAttribute("data-rotate"), 10) || 12;
  var items = [];          // [{code, name, view}] in the event's order
  var shown = 0, timer = null, retry = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function visible() { return items.filter(function (i) { return i.view; }); }

  function table(group) {
    var head = el("tr", {}, ["名次", "姓名", "单位", "成绩", "奖项", "晋升"].map(function (h) { return el("th", {}, [h]); }));
    var rows = group.rows.map(function (r) {
      return el("tr", {}, [el("td", {}, [String(r.rank)]), el("td", {}, [r.names.join("、")]), el("td", {}, [r.unit]),
        el("td", {}, [r.total || ""]), el("td", { "class": "award" }, [r.award]),
        el("td", {}, [r.promoted ? "晋升" + (r.cert_level_name || r.cert_level + "级") : ""])]);
    });
    if (!rows.length) { rows = [el("tr", {}, [el("td", { colspan: "6" }, ["本组无有效成绩"])])]; }
    return el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)]);
  }

  function render() {
    var list = visible();
    main.textContent = "";
    if (!list.length) { main.appendChild(el("p", { "class": "waiting" }, ["成绩尚未发布，发布后将在此显示。"])); return; }
    var item = list[shown % list.length], v = item.view;
    var box = el("section", { "class": "item", "data-item": item.code, "data-version": String(v.version) },
      [el("h2", {}, [item.name])]);
    if (v.state !== "published") {
      box.appendChild(el("p", { "class": "withdrawn" }, ["成绩已撤回，更正后将重新公示。"]));
    } else {
      box.appendChild(el("p", { "class": "meta" }, ["第 " + v.version + " 版 · 公示至 " + v.notice.last_day + " 24:00"]));
      v.groups.forEach(function (g) {
        if (g.group) { box.appendChild(el("h3", {}, [g.group])); }
        box.appendChild(table(g));
      });
    }
    main.appendChild(box);
  }

  function rotate() {
    clearInterval(timer);
    timer = setInterval(function () { shown += 1; render(); }, rotateSeconds * 1000);
  }

  function apply(message) {
    if (message.type === "snapshot") {
      items = message.items; render(); rotate(); return;
    }
    if (message.type === "publication") {
      var known = items.filter(function (i) { return i.code === message.item; })[0];
      if (!known) { known = { code: message.item, name: message.name, view: null }; items.push(known); }
      if (known.view && known.view.version >= message.version) { return; }  // a stale or repeated message
      known.view = message.view;
      var list = visible();
      shown = Math.max(0, list.indexOf(known));  // show what just changed
      render(); rotate();
    }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/board/" + eventId);
    socket.onopen = function () { retry = 0; status.textContent = "实时更新中"; status.className = "status"; };
    socket.onmessage = function (e) { try { apply(JSON.parse(e.data)); } catch (err) { /* ignore a bad frame */ } };
    socket.onclose = function () {
      status.textContent = "连接中断，正在重连…"; status.className = "status off";
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * retry);  // the server sends a full snapshot on the new connection
    };
  }

  connect();
}());
