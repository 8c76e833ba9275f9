/* The check-in kiosk: one always-focused input that USB scanners "type" into, camera scanning where the
   browser has BarcodeDetector, search by name, and the draw. Built to run unattended for hours: every request
   waits in a queue kept in localStorage until the server answers; a check-in keeps its nonce across retries,
   so the server applies it once; a lapsed session stops the queue with a clear message. Plain JS, no CDN. */
(function () {
  "use strict";

  const body = document.body;
  const EVENT = body.dataset.event;
  const TEXT = JSON.parse(document.getElementById("kiosk-text").textContent);
  const $ = (id) => document.getElementById(id);
  const scan = $("scan"), panel = $("panel");
  const QUEUE_KEY = "contestday.kiosk.queue." + EVENT;
  const STATION_KEY = "contestday.kiosk.station";
  const RESET_MS = 20000, PING_MS = 15000, ME_MS = 300000, TIMEOUT_MS = 10000;
  const BACKOFF = [1000, 2000, 4000, 8000, 15000, 30000];

  let csrf = body.dataset.csrf;
  let queue = load(QUEUE_KEY, []);
  let working = false, expired = false, retryTimer = null, resetTimer = null, current = null, attempts = 0;

  function load(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch (e) { return fallback; }
  }
  function save() { localStorage.setItem(QUEUE_KEY, JSON.stringify(queue)); }
  function fmt(template, values) { return template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? ""); }
  function hhmmss(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
  }
  // a session's day and start in Beijing time, wherever the kiosk's clock is set: "12月3日 18:00"
  // (h23: midnight is 00:00, never 24:00)
  const DAY_TIME = new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Shanghai", month: "numeric", day: "numeric",
                                                      hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function dayTime(iso) {
    const d = new Date(iso);
    if (!iso || isNaN(d)) return "";
    const p = {};
    DAY_TIME.formatToParts(d).forEach((x) => { p[x.type] = x.value; });
    return fmt(TEXT.seat_day, { m: p.month, d: p.day, time: `${p.hour}:${p.minute}` });
  }
  function nonce() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);  // old browsers without randomUUID
  }

  // ---- the station, set once per device ---------------------------------------------------------------
  function station() { return localStorage.getItem(STATION_KEY) || ""; }
  function showStation() { $("station-name").textContent = station() || "—"; }
  function askStation() {
    $("station-input").value = station() || body.dataset.station || "";
    open("station-dialog");
    $("station-input").focus();
  }
  $("station-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = $("station-input").value.trim().slice(0, 64);
    if (!name) return;
    localStorage.setItem(STATION_KEY, name);
    showStation();
    close("station-dialog");
  });
  $("station-button").addEventListener("click", askStation);
  if (!station() && body.dataset.station) localStorage.setItem(STATION_KEY, body.dataset.station);

  // ---- overlays and the always-focused input ----------------------------------------------------------
  function overlayOpen() { return Boolean(document.querySelector(".k-overlay:not([hidden])")); }
  function open(id) { $(id).hidden = false; }
  function close(id) {
    $(id).hidden = true;
    if (id === "camera-view") stopCamera();
    refocus();
  }
  function refocus() { if (!overlayOpen()) scan.focus({ preventScroll: true }); }
  document.querySelectorAll("[data-close]").forEach((b) => b.addEventListener("click", () => {
    close(b.closest(".k-overlay").id);
  }));
  scan.addEventListener("blur", () => setTimeout(refocus, 0));
  document.addEventListener("click", () => setTimeout(refocus, 0));
  // buttons of the main screen must not take the focus from the input: a scan may come at any moment
  document.addEventListener("mousedown", (e) => {
    if (e.target.closest("button") && !e.target.closest(".k-overlay")) e.preventDefault();
  });
  // a key pressed while nothing is focused still reaches the input (the scanner types fast)
  document.addEventListener("keydown", (e) => {
    unlockAudio();
    if (!overlayOpen() && document.activeElement !== scan && e.key.length === 1) scan.focus();
    if (e.key === "Escape" && overlayOpen()) document.querySelectorAll(".k-overlay:not([hidden])").forEach(
      (o) => { if (o.id !== "expired") close(o.id); });
  });
  window.addEventListener("focus", refocus);

  // On a touch tablet a focused input raises the on-screen keyboard over the page: keep it down for the
  // scanner, and raise it only when asked.
  const touch = window.matchMedia && matchMedia("(pointer: coarse)").matches;
  if (touch) {
    scan.setAttribute("inputmode", "none");
    $("keyboard").hidden = false;
    $("keyboard").addEventListener("click", () => { scan.setAttribute("inputmode", "text"); scan.blur(); refocus(); });
  }

  $("scan-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const code = ticketCode(scan.value);
    scan.value = "";
    if (touch) scan.setAttribute("inputmode", "none");
    if (code) enqueue({ kind: "checkin", code: code, nonce: nonce(), station: station() });
  });

  // The ticket's QR holds its page's URL (…/t/CODE): 2D scanners and the camera give the URL.
  function ticketCode(raw) {
    const text = (raw || "").trim();
    const match = text.match(/\/t\/([A-Za-z0-9-]+)/);
    return (match ? match[1] : text).replace(/[^A-Za-z0-9]/g, "").toUpperCase();
  }

  // ---- sound: WebAudio tones, no files ------------------------------------------------------------------
  let audio = null;
  function unlockAudio() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
    } catch (e) { audio = null; }
  }
  function beep(freq, ms, times) {
    if (!audio) return;
    for (let i = 0; i < times; i++) {
      const start = audio.currentTime + i * (ms + 90) / 1000;
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = "square"; osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.25, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + ms / 1000);
      osc.connect(gain).connect(audio.destination);
      osc.start(start); osc.stop(start + ms / 1000);
    }
  }
  const SOUND = { ok: () => beep(1320, 120, 1), already: () => beep(660, 180, 3), refused: () => beep(220, 450, 1) };

  // ---- the queue: every request waits here until the server answers ----------------------------------
  function enqueue(job) {
    queue.push(job);
    save();
    if (job.kind === "checkin") {
      setState("busy", TEXT.busy_checkin);
    } else {  // the card stays on screen while the seat is drawn
      clearTimeout(resetTimer);
      $("draw").disabled = true;
      $("draw").textContent = TEXT.busy_draw;
    }
    pump();
  }

  async function pump() {
    if (working || expired || !queue.length) { showPending(); return; }
    working = true;
    const job = queue[0];
    try {
      const response = await request(job);
      if (response.status === 401 || (response.status === 403 && response.body.code === "csrf_failed")) {
        sessionExpired();
        return;
      }
      if (response.status >= 500 && response.status !== 503) throw new Error("server " + response.status);
      if (response.status === 503 && response.body.code !== "draw_busy") throw new Error("unavailable");
      queue.shift(); save();
      attempts = 0;
      online(true);
      answer(job, response);
    } catch (e) {
      online(false);
      attempts += 1;
      const wait = BACKOFF[Math.min(attempts - 1, BACKOFF.length - 1)];
      showPending(fmt(TEXT.retrying, { n: attempts, s: Math.round(wait / 1000) }));
      if (body.dataset.state === "busy") $("busy-text").textContent = TEXT.waiting;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(pump, wait);
      return;
    } finally {
      working = false;
    }
    pump();
  }

  async function request(job) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    // a person found by search is named by registration id: the search never hands out ticket codes
    const person = job.code ? { ticket_code: job.code } : { registration_id: job.entry };
    const payload = job.kind === "checkin"
      ? { ...person, station: job.station || station() || "?", nonce: job.nonce }
      : { ...person, station: job.station || station() || "?" };
    try {
      const r = await fetch(`/api/events/${EVENT}/${job.kind === "checkin" ? "checkins" : "draws"}`, {
        method: "POST", credentials: "same-origin", signal: ctrl.signal, cache: "no-store",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(payload),
      });
      let data = {};
      try { data = await r.json(); } catch (e) { data = {}; }
      return { status: r.status, body: data };
    } finally {
      clearTimeout(timer);
    }
  }

  function showPending(text) {
    const waiting = queue.length;
    const el = $("pending");
    if (!waiting) { el.hidden = true; return; }
    el.hidden = false;
    el.textContent = text || fmt(TEXT.pending, { n: waiting });
  }

  // ---- what the screen shows --------------------------------------------------------------------------
  function setState(state, busyText) {
    panel.className = "k-panel state-" + state;
    body.dataset.state = state;
    if (busyText) $("busy-text").textContent = busyText;
    clearTimeout(resetTimer);
    if (state !== "ready" && state !== "busy") resetTimer = setTimeout(ready, RESET_MS);
  }
  function ready() { current = null; setState("ready"); refocus(); }

  function card(entry) {
    const members = (entry && entry.members) || [];
    const first = members[0] || {};
    $("name").textContent = members.map((m) => m.name).join("、") || "—";
    $("id-masked").textContent = members.map((m) => m.id_masked).join("、");
    $("unit").textContent = entry ? entry.unit : "";
    $("item").textContent = entry ? `${entry.item_name}（${entry.item}）` : "";
    $("group").textContent = (entry && entry.group) || TEXT.no_group;
    const img = $("photo"), none = $("photo-none");
    none.textContent = (first.name || "?").slice(0, 1);
    img.hidden = true; none.hidden = false;
    if (first.photo) {
      img.onload = () => { img.hidden = false; none.hidden = true; };
      img.onerror = () => { img.hidden = true; none.hidden = false; };
      img.src = first.photo;
    } else {
      img.removeAttribute("src");
    }
  }

  function showSeat(seat, session, startsAt) {
    $("draw-box").hidden = true;
    $("seat-box").hidden = false;
    $("seat").textContent = seat;
    $("seat-when").textContent = session ? fmt(TEXT.seat_when, { session: session, when: dayTime(startsAt) }) : "";
  }

  // the job's person: a scanned ticket code, or a registration id picked from the search
  function who(job) { return job.code ? "t:" + job.code : "r:" + job.entry; }

  function result(state, title, detail, entry, job) {
    current = { who: who(job), code: job.code, id: job.entry || (entry && entry.registration_id), entry: entry,
                state: state };
    $("state-text").textContent = title;
    $("state-detail").textContent = detail || "";
    card(entry);
    $("seat-box").hidden = true;
    $("draw-box").hidden = true;
    if (entry && entry.seat) showSeat(entry.seat, entry.seat_session, entry.seat_starts_at);
    else if (state === "ok" || state === "already") $("draw-box").hidden = false;
    setState(state);
  }

  function refused(title, message, detail) {
    current = null;
    $("refused-title").textContent = title;
    $("refused-message").textContent = message || "";
    $("refused-detail").textContent = detail || "";
    setState("refused");
    SOUND.refused();
  }

  function answer(job, r) {
    const b = r.body || {};
    if (job.kind === "draw") {
      $("draw").disabled = false;
      $("draw").textContent = TEXT.draw;
      if (r.status === 200) {
        if (!current || current.who !== who(job)) result("ok", TEXT.drawn, "", null, job);
        showSeat(b.seat, b.session, b.starts_at);
        setState(current.state);
        SOUND.ok();
        remember(job.code, current && current.entry, b.seat);
      } else {
        refused(TEXT.draw_failed, b.message, "");
      }
      return;
    }
    if (r.status === 200 && b.status === "ok") {
      result("ok", TEXT.ok, fmt(TEXT.ok_detail, { time: hhmmss(b.checked_in_at), station: b.station }), b.entry,
             job);
      SOUND.ok();
      remember(job.code, b.entry, TEXT.ok);
    } else if (b.code === "already_checked_in") {
      result("already", TEXT.already, fmt(TEXT.already_detail, { time: hhmmss(b.first_at), station: b.station }),
             b.entry, job);
      SOUND.already();
      remember(job.code, b.entry, TEXT.already);
    } else if (b.code === "marked_absent") {
      refused(TEXT.refused, b.message, b.entry ? b.entry.members.map((m) => m.name).join("、") : "");
    } else {
      refused(r.status === 404 ? TEXT.unknown : TEXT.refused, b.message || fmt(TEXT.http_error, { status: r.status }),
              "");
    }
  }

  function remember(code, entry, what) {
    const list = $("recent");
    const li = document.createElement("li");
    const name = entry && entry.members ? entry.members.map((m) => m.name).join("、")
      : (code || "").slice(0, 4) + "…";
    li.textContent = `${new Date().toLocaleTimeString("zh-CN", { hour12: false })}  ${name}  ${what}`;
    list.prepend(li);
    while (list.children.length > 5) list.lastChild.remove();
  }

  $("draw").addEventListener("click", () => {
    if (!current) return;
    enqueue(current.code ? { kind: "draw", code: current.code, station: station() }
                         : { kind: "draw", entry: current.id, station: station() });
  });

  // ---- search by name (lost ticket) ---------------------------------------------------------------------
  let searchTimer = null;
  $("search-open").addEventListener("click", () => {
    open("search");
    $("search-q").value = "";
    $("search-results").innerHTML = "";
    $("search-q").focus();
  });
  $("search-q").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 300);
  });
  async function search() {
    const q = $("search-q").value.trim();
    const list = $("search-results");
    if (!q) { list.innerHTML = ""; return; }
    const hint = (text) => {
      list.innerHTML = "";
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = text;
      list.appendChild(li);
    };
    try {
      const r = await fetch(`/api/events/${EVENT}/checkin/search?q=${encodeURIComponent(q)}`,
                            { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" });
      if (r.status === 401) { sessionExpired(); return; }
      if ($("search-q").value.trim() !== q) return;  // typed on meanwhile: the newer search answers
      const rows = await r.json();
      // 422 query_too_short: say how much to type (2 characters of a name, 4 phone digits, or the ID number)
      if (!r.ok) { hint((rows && rows.message) || TEXT.no_match); return; }
      list.innerHTML = "";
      if (!rows.length) { hint(TEXT.no_match); return; }
      for (const row of rows) {
        const li = document.createElement("li");
        const b = document.createElement("button");
        b.type = "button";
        b.className = "k-pick";
        b.innerHTML = "<strong></strong> <span class='id'></span><small></small>";
        b.querySelector("strong").textContent = row.name;
        b.querySelector(".id").textContent = [row.id_masked, row.phone_masked].filter(Boolean).join(" · ");
        b.querySelector("small").textContent = `${row.unit} · ${row.item_name}${row.group ? " · " + row.group : ""}`;
        b.addEventListener("click", () => {
          close("search");
          enqueue({ kind: "checkin", entry: row.registration_id, nonce: nonce(), station: station() });
        });
        li.appendChild(b);
        list.appendChild(li);
      }
      if (r.headers.get("X-More-Results") === "1") {
        const li = document.createElement("li");
        li.className = "empty";
        li.textContent = TEXT.more_results;
        list.appendChild(li);
      }
    } catch (e) {
      list.innerHTML = `<li class="empty">${TEXT.offline}</li>`;
    }
  }

  // ---- camera scanning, where the browser can ----------------------------------------------------------
  let stream = null, detecting = false;
  async function cameraSupported() {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return false;
    try { return (await BarcodeDetector.getSupportedFormats()).includes("qr_code"); } catch (e) { return false; }
  }
  cameraSupported().then((yes) => { $("camera").hidden = !yes; });
  $("camera").addEventListener("click", async () => {
    open("camera-view");
    $("camera-text").textContent = TEXT.camera_hint;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      const video = $("video");
      video.srcObject = stream;
      await video.play();
      const detector = new BarcodeDetector({ formats: ["qr_code"] });
      detecting = true;
      const tick = async () => {
        if (!detecting) return;
        try {
          const found = await detector.detect(video);
          if (found.length) {
            const code = ticketCode(found[0].rawValue);
            close("camera-view");
            if (code) enqueue({ kind: "checkin", code: code, nonce: nonce(), station: station() });
            return;
          }
        } catch (e) { /* a frame that is not ready yet */ }
        setTimeout(tick, 200);
      };
      tick();
    } catch (e) {
      $("camera-text").textContent = TEXT.camera_failed;
    }
  });
  function stopCamera() {
    detecting = false;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
  }

  // ---- connection and session ------------------------------------------------------------------------
  function online(yes, text) {
    const net = $("net");
    net.dataset.state = yes ? "online" : "offline";
    $("net-text").textContent = text || (yes ? TEXT.online : TEXT.offline);
  }
  async function ping() {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 5000);
    try {
      const r = await fetch("/health", { cache: "no-store", signal: ctrl.signal });
      let b = {};
      try { b = await r.json(); } catch (e) { b = {}; }
      // a 503 for Redis alone (live updates between instances) does not stop check-in: the database answers
      const usable = r.ok || (b.database === "ok" && b.schema === "current" && b.data_dir === "ok");
      online(usable, usable ? "" : TEXT.server_trouble);
      if (usable && queue.length && !working) { clearTimeout(retryTimer); attempts = 0; pump(); }
    } catch (e) {
      online(false);
    } finally {
      clearTimeout(timer);
    }
  }
  async function checkSession() {
    try {
      const r = await fetch("/api/me", { credentials: "same-origin", cache: "no-store" });
      if (r.status === 401) sessionExpired();
      else if (r.ok) csrf = (await r.json()).csrf_token || csrf;
    } catch (e) { /* the ping reports the network */ }
  }
  function sessionExpired() {
    expired = true;
    working = false;
    $("relogin").href = body.dataset.login;
    open("expired");
    showPending();
  }
  window.addEventListener("online", ping);
  window.addEventListener("offline", () => online(false));

  function clock() {
    $("clock").textContent = new Date().toLocaleTimeString("zh-CN", { hour12: false, timeZone: "Asia/Shanghai" });
  }

  // ---- start -----------------------------------------------------------------------------------------
  showStation();
  clock();
  setInterval(clock, 1000);
  ping();
  setInterval(ping, PING_MS);
  setInterval(checkSession, ME_MS);
  ready();
  if (!station()) askStation();
  if (queue.length) pump();  // scans left from before a reload or a lapsed session
  window.kiosk = { queue: () => queue.slice(), state: () => body.dataset.state };  // for tests and support
})();
