// The venue check page: compare this browser's clock with the server's (GET /venue/clock, the fastest of three
// round trips, its midpoint taken as the server's moment) and its time zone with China time; a difference
// raises the clock section (and the summary) to a warning. Tablets and kiosks open this page to check themselves.
(function () {
  "use strict";
  var row = document.getElementById("browser-clock");
  if (!row) return;
  var section = row.closest("section");
  var limitMs = Number(row.dataset.limitS) * 1000;
  var offsetCell = row.querySelector("[data-role=offset]");
  var note = section.querySelector("[data-role=clock-note]");
  offsetCell.textContent = offsetCell.dataset.busy;

  function warn(text) {
    var p = note.hidden ? note : note.cloneNode(false);
    p.textContent = text;
    p.hidden = false;
    if (p !== note) note.after(p);
    if (section.dataset.state === "ok") {
      section.dataset.state = "warn";
      section.querySelector("[data-role=state]").replaceWith(
        document.getElementById("badge-warn").content.firstElementChild.cloneNode(true));
    }
    var summary = document.getElementById("venue-summary");
    if (summary.dataset.state === "ok") {
      summary.dataset.state = "warn";
      summary.className = "notice warn";
      summary.textContent = summary.dataset.warnText;
    }
  }

  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "?";
  var minutes = -new Date().getTimezoneOffset();
  var sign = minutes < 0 ? "-" : "+";
  var hh = String(Math.floor(Math.abs(minutes) / 60)).padStart(2, "0");
  var mm = String(Math.abs(minutes) % 60).padStart(2, "0");
  row.querySelector("[data-role=zone]").textContent = zone + "（UTC" + sign + hh + ":" + mm + "）";
  if (minutes !== 480) warn(row.dataset.warnZone);

  function sample() {
    var sent = Date.now();
    return fetch("/venue/clock", {cache: "no-store"}).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (body) {
      var got = Date.now();
      return {rtt: got - sent, offset: (sent + got) / 2 - body.server_ms};  // browser minus server
    });
  }

  var best = null;
  var chain = Promise.resolve();
  [0, 1, 2].forEach(function () {
    chain = chain.then(sample).then(function (s) { if (!best || s.rtt < best.rtt) best = s; });
  });
  chain.then(function () {
    var seconds = Math.round(Math.abs(best.offset) / 1000);
    row.dataset.offsetMs = String(Math.round(best.offset));
    if (Math.abs(best.offset) <= limitMs) {
      offsetCell.textContent = row.dataset.ok.replace("{s}", seconds);
      return;
    }
    offsetCell.textContent = (best.offset > 0 ? row.dataset.fast : row.dataset.slow).replace("{s}", seconds);
    warn(row.dataset.warnClock);
  }).catch(function () {
    offsetCell.textContent = row.dataset.failed;
  });
})();
