/* The tablet's offline-tolerant link to /ws/judge (judging/PROTOCOL.md), without the page: local storage, the
   operation queue, mark validation and the socket with heartbeat and backoff. tablet.js draws the page.

   The rule that keeps marks safe: an operation is written to local storage BEFORE it is sent, and leaves the
   queue only when its ack or nack arrives. The server applies each op_id once, so sending it again after a lost
   reply, a reconnect or a reload is harmless; the queue is replayed in order with the original op_ids. */
(function () {
  "use strict";

  // crypto.randomUUID exists only in secure contexts (https, localhost): a tablet on a venue LAN over plain
  // http, or an old browser, gets a v4 UUID from getRandomValues (or, last resort, Math.random).
  function newOpId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") {
      try { return c.randomUUID(); } catch (e) { /* insecure context: fall through */ }
    }
    var b = new Uint8Array(16), i;
    if (c && typeof c.getRandomValues === "function") c.getRandomValues(b);
    else for (i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = "";
    for (i = 0; i < 16; i++) h += (b[i] + 0x100).toString(16).slice(1);
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* One namespace per account (the page passes it): JSON values, failures reported, never thrown. */
  function Store(prefix) { this.prefix = prefix; this.ok = true; }
  Store.prototype.get = function (name, fallback) {
    try {
      var raw = window.localStorage.getItem(this.prefix + "." + name);
      return raw ? JSON.parse(raw) : fallback;
    } catch (e) { return fallback; }
  };
  Store.prototype.set = function (name, value) {
    try {
      window.localStorage.setItem(this.prefix + "." + name, JSON.stringify(value));
      return true;
    } catch (e) { this.ok = false; return false; }  // quota or private mode: the page warns
  };

  function markKey(item, seat, criterion) { return item + "|" + seat + "|" + criterion; }

  /* The unacknowledged operations, in the order they were made. An entry no reply could ever name (not an
     object, no op_id: a damaged store) would wait for ever in front of the others: it is left out. */
  function Queue(store) {
    var ops = store.get("queue", []);
    this.store = store;
    this.ops = (Array.isArray(ops) ? ops : []).filter(function (op) {
      return op !== null && typeof op === "object" && !Array.isArray(op) && typeof op.op_id === "string" &&
        op.op_id !== "";
    });
  }
  Queue.prototype.save = function () { return this.store.set("queue", this.ops); };
  Queue.prototype.push = function (op) { this.ops.push(op); return this.save(); };
  Queue.prototype.remove = function (opId) {
    for (var i = 0; i < this.ops.length; i++) {
      if (this.ops[i].op_id === opId) {
        var op = this.ops.splice(i, 1)[0];
        this.save();
        return op;
      }
    }
    return null;
  };
  Queue.prototype.forMark = function (key) {
    return this.ops.filter(function (op) {
      return op.kind === "set_score" && markKey(op.item, op.seat, op.criterion) === key;
    });
  };
  Queue.prototype.submitFor = function (item) {
    return this.ops.some(function (op) { return op.kind === "submit_sheet" && op.item === item; });
  };
  /* The version an edit made now must name: each queued edit of the mark will raise the version by one, so
     the next edit is based on what the last queued one produces; with none queued, the server's version. */
  Queue.prototype.baseVersion = function (key, serverVersion) {
    var queued = this.forMark(key);
    return queued.length ? queued[queued.length - 1].base_version + 1 : serverVersion;
  };

  /* Marks are kept as text and compared in hundredths: binary floats would turn 8.245 into 8.24. */
  function toHundredths(text) {
    var m = /^(\d*)(?:\.(\d*))?$/.exec(text);
    if (!m || (m[1] === "" && !m[2])) return null;
    var frac = (m[2] || "");
    if (frac.length > 2) return NaN;
    return parseInt(m[1] || "0", 10) * 100 + parseInt((frac + "00").slice(0, 2), 10);
  }
  function formatHundredths(h) {
    var sign = h < 0 ? "-" : "";
    h = Math.abs(h);
    return sign + Math.floor(h / 100) + "." + ("0" + (h % 100)).slice(-2);
  }
  function normalise(text) {
    // full-width digits and points from a Chinese keyboard, a decimal comma
    return String(text || "").trim().replace(/[\uff10-\uff19]/g, function (d) {
      return String.fromCharCode(d.charCodeAt(0) - 0xfee0);
    }).replace(/[\uff0e\u3002,\uff0c]/g, ".");
  }
  /* {ok, value} with value a canonical "35.50" or null (cleared); or {ok: false, error, args}. The server
     checks again: this only saves the judge a round trip. */
  function checkMark(text, max) {
    var clean = normalise(text);
    if (clean === "") return { ok: true, value: null };
    var h = toHundredths(clean);
    if (h === null) return { ok: false, error: "bad_number" };
    if (isNaN(h)) return { ok: false, error: "too_many_decimals" };
    if (h > toHundredths(max)) return { ok: false, error: "out_of_range", args: { max: max } };
    return { ok: true, value: formatHundredths(h) };
  }

  var PING_MS = 15000, MAX_BACKOFF_S = 30, BUSY_BACKOFF_S = 4;

  /* The socket. handlers: snapshot(msg), message(msg), state(name, detail), expired(code). After each
     snapshot every queued op is (re)sent in order; ops made while connected are sent at once. */
  function Link(url, queue, handlers) {
    this.url = url; this.queue = queue; this.h = handlers;
    this.ws = null; this.ready = false; this.sent = {}; this.attempt = 0; this.timer = null;
    this.beat = null; this.awaiting = false; this.missed = 0; this.stopped = false; this.resyncTimer = null;
  }
  Link.prototype.connect = function () {
    var self = this;
    if (this.stopped || this.ws) return;
    clearTimeout(this.timer);
    this.h.state("connecting");
    var ws;
    try { ws = new WebSocket(this.url); } catch (e) { this.closed({ code: 1006 }); return; }
    this.ws = ws; this.ready = false; this.sent = {}; this.awaiting = false; this.missed = 0;
    ws.onopen = function () { self.beat = setInterval(function () { self.heartbeat(); }, PING_MS); };
    ws.onmessage = function (ev) { if (self.ws === ws) self.received(ev.data); };
    ws.onclose = function (ev) { if (self.ws === ws) self.closed(ev); };
  };
  Link.prototype.received = function (data) {
    var msg;
    try { msg = JSON.parse(data); } catch (e) { return; }
    this.awaiting = false; this.missed = 0;  // anything from the server proves the line is alive
    if (msg.type === "pong") return;
    if (msg.type === "resync") { this.resync(); return; }  // live messages were lost meanwhile: nothing to show
    if (msg.type === "snapshot") {
      // the server sends one on connect (what `hello` would return): truth first, then the replay
      this.ready = true; this.attempt = 0;
      this.h.snapshot(msg);
      this.h.state("online");
      this.flush();
      return;
    }
    this.h.message(msg);
  };
  Link.prototype.heartbeat = function () {
    if (this.awaiting && ++this.missed >= 2) { this.drop(); return; }  // two pongs missed: the line is dead
    this.awaiting = true;
    this.raw({ type: "ping", t: Date.now() });
  };
  Link.prototype.raw = function (msg) {
    if (!this.ws || this.ws.readyState !== 1) return false;
    try { this.ws.send(JSON.stringify(msg)); return true; } catch (e) { return false; }
  };
  Link.prototype.send = function (op) {
    if (!this.ready || this.sent[op.op_id]) return;
    if (this.raw(op)) this.sent[op.op_id] = true;
  };
  Link.prototype.flush = function () {
    for (var i = 0; i < this.queue.ops.length; i++) this.send(this.queue.ops[i]);
  };
  Link.prototype.hello = function () { if (this.ready) this.raw({ type: "hello" }); };
  /* The server lost live messages (Redis went away and came back): ask for the snapshot, as after a reconnect.
     Spread over a second (a hall of tablets hears it at once) and one request for several resyncs. */
  Link.prototype.resync = function () {
    var self = this;
    if (this.resyncTimer) return;
    this.resyncTimer = setTimeout(function () { self.resyncTimer = null; self.hello(); }, Math.random() * 1000);
  };
  Link.prototype.closed = function (ev) {
    clearInterval(this.beat);
    this.ws = null; this.ready = false;
    if (ev.code === 4401 || ev.code === 4403) {
      // signed out or not a judge: reconnecting cannot help, the personal link must be opened again
      this.stopped = true;
      this.h.expired(ev.code, ev.reason);
      return;
    }
    // 1013: the server is up but cannot store marks now (its database is away): the op sent got no ack and
    // stays queued; try every few seconds so the queue goes through soon after the database is back
    var busy = ev.code === 1013;
    var delay = Math.min(busy ? BUSY_BACKOFF_S : MAX_BACKOFF_S, Math.pow(2, this.attempt)) * 1000;  // 1, 2, 4 … 30 s
    this.attempt++;
    this.h.state("offline", { retryIn: Math.round(delay / 1000), busy: busy });
    var self = this;
    this.timer = setTimeout(function () { self.connect(); }, delay * (0.8 + 0.4 * Math.random()));
  };
  /* Forget the socket now, without waiting for a close handshake that a dead network never completes. */
  Link.prototype.drop = function () {
    var ws = this.ws;
    if (!ws) return;
    this.ws = null;
    try { ws.close(); } catch (e) { /* already closing */ }
    this.closed({ code: 1006 });
  };
  /* The network came back (or the page woke up): try at once instead of waiting out the backoff. */
  Link.prototype.now = function () {
    if (this.stopped) return;
    this.attempt = 0;
    if (!this.ws) this.connect();
  };

  window.TabletQueue = {
    newOpId: newOpId, Store: Store, Queue: Queue, Link: Link, markKey: markKey, checkMark: checkMark,
    toHundredths: toHundredths, formatHundredths: formatHundredths, normalise: normalise
  };
})();
