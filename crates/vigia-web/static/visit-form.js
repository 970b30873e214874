// The visit form keeps working without a connection, and never sends by itself.
//
// Every change is kept in this browser (localStorage) under the draft's own key, and the
// address becomes /visits/new?draft=KEY so that a reload (a phone reloads a tab whenever
// the camera or a chat app is opened) brings the same draft back. A draft is sent only
// when the person presses "Send visit" (Enter in a field does not send): at once if there
// is a connection, or, if there is none, it is queued and sent when the connection
// returns — exactly once, because the server stores each key once. Editing a queued
// draft takes it out of the queue. If the server already holds a different report under
// the key, nothing is overwritten: the person may send what they have as a correction (a
// new report linked to the first).
//
// Drafts are the signed-in person's: another person signed in on the same browser
// neither sees nor sends them. Once sent, a draft's contents leave the device (the
// report is on the server); only what the list shows stays. Two tabs never overwrite
// each other's typing: the tab that did not type last locks itself and says so.
//
// localStorage reaches the disk lazily (Chromium: a few seconds later), so a phone that
// kills the browser just after typing would lose the last words. Every write is also
// put in IndexedDB with strict durability (on disk before it completes); on opening, a
// copy there newer than localStorage's is put back, and the page reopens once with it.
(function () {
  "use strict";
  var STORE = "vigia-visit-drafts";
  var STORE_AT = "vigia-visit-drafts-at";
  var KEY_SHAPE = /^[A-Za-z0-9_-]{8,100}$/;
  var form = document.getElementById("visit-form");
  if (!form) return;
  var me = form.getAttribute("data-user") || "";
  var TAB = Math.random().toString(36).slice(2);
  var status = document.getElementById("draft-status");
  var listBox = document.getElementById("device-drafts");
  var body = document.getElementById("form-body");
  var sendButton = document.getElementById("send-visit");
  var correctionButton = document.getElementById("send-correction");
  var errorsBox = document.getElementById("form-errors");
  var conflictBox = document.getElementById("conflict-box");
  var field = function (name) { return form.elements.namedItem(name); };
  var attr = function (el, name) { return (el && el.getAttribute("data-" + name)) || name; };
  var has = function (o, k) { return Object.prototype.hasOwnProperty.call(o, k); };

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/visits/sw.js", { scope: "/visits/" }).catch(function () {});
  }

  function drafts() {
    var all;
    try { all = JSON.parse(localStorage.getItem(STORE) || "{}") || {}; } catch (e) { return {}; }
    Object.keys(all).forEach(function (k) {
      var d = all[k];
      if (!d || typeof d !== "object" || !KEY_SHAPE.test(k)) { delete all[k]; return; }
      // Drafts kept by the earlier version of this script were "saved": they are drafts,
      // and, since nobody can tell whose, never sent without someone pressing send again.
      if (["draft", "queued", "sent", "conflict"].indexOf(d.state) < 0 || (!d.user && d.state === "queued")) {
        d.state = "draft";
      }
    });
    return all;
  }
  function mine(d) { return !d.user || d.user === me; }
  var lastWritten = null; // this tab's last copy of the open draft, to notice other tabs
  function keep(all) {
    var at = Date.now();
    try {
      localStorage.setItem(STORE, JSON.stringify(all));
      localStorage.setItem(STORE_AT, String(at));
      lastWritten = key && has(all, key) ? JSON.stringify(all[key]) : null;
    } catch (e) { return false; }
    durable({ at: at, all: all });
    return true;
  }

  // ---- The durable copy in IndexedDB ------------------------------------------------
  var db = null, dbWaiting = [], pending = null, writing = false;
  function withDb(cb) {
    if (db) { cb(db); return; }
    dbWaiting.push(cb);
    if (dbWaiting.length > 1 || !window.indexedDB) return;
    var req;
    try { req = indexedDB.open("vigia-visit-drafts", 1); } catch (e) { dbWaiting = []; return; }
    req.onupgradeneeded = function () { req.result.createObjectStore("drafts"); };
    req.onsuccess = function () {
      db = req.result;
      var waiting = dbWaiting;
      dbWaiting = [];
      waiting.forEach(function (f) { f(db); });
    };
    req.onerror = function () { dbWaiting = []; };
  }
  // The newest copy only: writes never pile up behind a slow disk.
  function durable(copy) {
    pending = copy;
    if (writing) return;
    var next = pending;
    pending = null;
    writing = true;
    withDb(function (d) {
      var tx;
      try { tx = d.transaction("drafts", "readwrite", { durability: "strict" }); }
      catch (e) { tx = d.transaction("drafts", "readwrite"); }
      tx.objectStore("drafts").put(next, "all");
      tx.oncomplete = tx.onerror = tx.onabort = function () {
        writing = false;
        if (pending) durable(pending);
      };
    });
  }
  function restoreDurable() {
    withDb(function (d) {
      var req = d.transaction("drafts", "readonly").objectStore("drafts").get("all");
      req.onsuccess = function () {
        var saved = req.result;
        var localAt = Number(localStorage.getItem(STORE_AT) || 0);
        if (!saved || !saved.all || !(saved.at > localAt)) return;
        try {
          localStorage.setItem(STORE, JSON.stringify(saved.all));
          localStorage.setItem(STORE_AT, String(saved.at));
        } catch (e) { return; }
        // Reopen once with what was recovered (never in a loop).
        if (sessionStorage.getItem("vigia-visit-restored") === String(saved.at)) return;
        sessionStorage.setItem("vigia-visit-restored", String(saved.at));
        // The draft the address asked for, if it is among what came back.
        if (asked && KEY_SHAPE.test(asked) && has(saved.all, asked)) {
          location.replace("/visits/new?draft=" + encodeURIComponent(asked));
        } else {
          location.reload();
        }
      };
    });
  }
  function newKey() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "v" + Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  function clock(iso) {
    try { return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); } catch (e) { return ""; }
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function say(state, extra) {
    status.textContent = attr(status, state) + (extra ? " " + extra : "");
    status.setAttribute("data-state", state);
  }
  // What the form holds, as the server reads it (the session's token is added when sent).
  function pairs() {
    var out = [];
    new FormData(form).forEach(function (v, k) { if (typeof v === "string" && k !== "csrf") out.push([k, v]); });
    return out;
  }
  function facilityLabel() {
    var s = field("facility_id");
    return s && s.selectedIndex > 0 ? s.options[s.selectedIndex].text : "";
  }

  // Enter in a field (or a phone keyboard's "Go") must not send the visit.
  form.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target && ev.target.tagName === "INPUT") ev.preventDefault();
  });

  // ---- Findings: as many as the visit needs ----------------------------------------
  var findings = document.getElementById("findings");
  var template = document.getElementById("finding-template");
  var addButton = document.getElementById("add-finding");
  function findingCount() { return findings.querySelectorAll(".finding").length; }
  function addFinding() {
    var n = findingCount();
    var html = template.innerHTML.split("__NUM__").join(String(n + 1)).split("__N__").join(String(n));
    findings.insertAdjacentHTML("beforeend", html);
    return findings.lastElementChild;
  }
  if (addButton) {
    addButton.hidden = false;
    addButton.addEventListener("click", function () {
      var f = addFinding();
      var first = f && f.querySelector("select");
      if (first) first.focus();
    });
  }

  // ---- Progress: answered questions per section and in all -------------------------
  var progressText = document.getElementById("progress");
  function progress() {
    var total = 0, answered = 0;
    Array.prototype.forEach.call(document.querySelectorAll("details.section[data-questions]"), function (sec) {
      var groups = sec.querySelectorAll("fieldset.choices");
      var n = 0;
      Array.prototype.forEach.call(groups, function (g) {
        var c = g.querySelector("input:checked");
        if (c && c.value) n++;
      });
      var p = sec.querySelector(".progress");
      if (p) p.textContent = n + "/" + groups.length;
      total += groups.length;
      answered += n;
    });
    if (progressText) {
      progressText.textContent = attr(status, "progress").replace("%A", answered).replace("%T", total);
    }
  }

  // ---- Errors from the server, beside the fields -----------------------------------
  function clearErrors() {
    errorsBox.hidden = true;
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (el) { el.removeAttribute("aria-invalid"); });
  }
  function openAround(el) {
    for (var p = el; p; p = p.parentElement) { if (p.tagName === "DETAILS") p.open = true; }
  }
  function showErrors(fields) {
    var ul = errorsBox.querySelector("ul");
    ul.textContent = "";
    (fields || []).forEach(function (f) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#" + f.anchor;
      a.textContent = f.message;
      a.addEventListener("click", function () {
        var target = document.getElementById(f.anchor);
        if (target) openAround(target);
      });
      li.appendChild(a);
      ul.appendChild(li);
      var target = document.getElementById(f.anchor);
      if (target) { target.setAttribute("aria-invalid", "true"); openAround(target); }
    });
    errorsBox.hidden = false;
    errorsBox.focus();
  }

  // ---- The draft open in this form ---------------------------------------------------
  var key = null; // set once the person has typed something (or opened a kept draft)
  var locked = false;
  function fill(d) {
    var ps = d.pairs || [];
    var max = 0;
    ps.forEach(function (p) {
      var m = /^findings\.(\d+)\./.exec(p[0]);
      if (m) max = Math.max(max, Number(m[1]) + 1);
    });
    while (findingCount() < Math.min(max, 50)) addFinding();
    ps.forEach(function (p) {
      var el = field(p[0]);
      if (el && "value" in el) el.value = p[1];
    });
  }
  function lock(url) {
    locked = true;
    body.disabled = true;
    sendButton.hidden = true;
    correctionButton.hidden = true;
    var link = document.getElementById("sent-link");
    if (link && url) { link.href = url; link.hidden = false; }
    var again = document.getElementById("new-draft");
    if (again) again.hidden = false;
  }
  function showConflict(on) {
    conflictBox.hidden = !on;
    correctionButton.hidden = !on;
    sendButton.hidden = on;
  }
  function save() {
    if (locked) return;
    if (!key) {
      key = field("draft_key").value;
      history.replaceState(null, "", "/visits/new?draft=" + encodeURIComponent(key));
    }
    var a = drafts();
    var d = has(a, key) ? a[key] : { created: new Date().toISOString() };
    if (d.state === "sent") { say("sent"); lock(d.url); return; }
    var wasQueued = d.state === "queued";
    d.pairs = pairs();
    d.savedAt = new Date().toISOString();
    d.facility = facilityLabel();
    d.on = (field("on") || {}).value || "";
    d.user = me;
    d.tab = TAB;
    delete d.errors;
    if (d.state !== "conflict") d.state = "draft";
    a[key] = d;
    if (!keep(a)) { say("nostore"); return; }
    say(wasQueued ? "unqueued" : "draft", clock(d.savedAt));
    renderList();
  }
  form.addEventListener("input", function () { save(); progress(); });
  form.addEventListener("change", function () { save(); progress(); });

  // Another tab wrote this draft: lock this one rather than overwrite what it typed.
  window.addEventListener("storage", function (ev) {
    if (ev.key !== STORE && ev.key !== null) return;
    renderList();
    if (!key || locked) return;
    var a = drafts();
    var now = has(a, key) ? JSON.stringify(a[key]) : null;
    if (now === lastWritten) return;
    if (now && a[key].state === "sent") { say("sent"); lock(a[key].url); return; }
    say("othertab");
    lock(null);
  });

  // ---- Sending: only what the person queued -----------------------------------------
  // Who is signed in now, and the session's token: the page may be older than the
  // session (an offline copy, or a sign-in made since in another tab).
  function whoami() {
    return fetch("/visits/new", { credentials: "same-origin", redirect: "manual", cache: "no-store" })
      .then(function (r) {
        if (r.type === "opaqueredirect" || !r.ok) return null;
        return r.text().then(function (html) {
          var csrf = /name="csrf" value="([^"]*)"/.exec(html);
          var user = /data-user="([^"]*)"/.exec(html);
          return csrf && user ? { csrf: csrf[1], user: user[1] } : null;
        });
      });
  }
  var inflight = {};
  function send(k, who) {
    var a = drafts();
    var d = has(a, k) ? a[k] : null;
    var mineOpen = k === key;
    if (!d || d.state !== "queued" || inflight[k] || !mine(d)) return Promise.resolve();
    if (!navigator.onLine) {
      if (mineOpen) say("offline");
      renderList();
      return Promise.resolve();
    }
    if (!who) { if (mineOpen) say("signin"); return Promise.resolve(); }
    if (d.user && who.user !== d.user) { if (mineOpen) say("otheruser"); return Promise.resolve(); }
    inflight[k] = true;
    if (mineOpen) { say("sending"); body.disabled = true; }
    var sent = JSON.stringify(d.pairs);
    var data = new URLSearchParams();
    d.pairs.forEach(function (p) { data.append(p[0], p[1]); });
    data.append("csrf", who.csrf);
    return fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json" }
    }).then(function (r) {
      if (r.type === "opaqueredirect" || r.status === 401 || r.status === 403) return { status: 401, body: {} };
      return r.json().then(function (j) { return { status: r.status, body: j }; }, function () { return { status: r.status, body: {} }; });
    }).then(function (res) {
      inflight[k] = false;
      var b = drafts();
      var now = has(b, k) ? b[k] : null;
      if (!now) return;
      if (mineOpen && res.status !== 200 && res.status !== 201) body.disabled = locked;
      if (res.status === 200 || res.status === 201) {
        var changed = JSON.stringify(now.pairs) !== sent;
        if (changed) {
          // Typed elsewhere while this was on its way: kept as a new draft correcting it.
          var next = newKey();
          var rest = now.pairs.filter(function (p) { return p[0] !== "draft_key" && p[0] !== "corrects_key"; });
          rest.push(["draft_key", next], ["corrects_key", k]);
          b[next] = { created: new Date().toISOString(), savedAt: new Date().toISOString(), pairs: rest,
            facility: now.facility, on: now.on, user: now.user, state: "draft", corrects: k };
        }
        // The report is on the server now; its contents (interview notes too) leave the device.
        b[k] = { state: "sent", url: res.body.url, sentAt: new Date().toISOString(), savedAt: now.savedAt,
          facility: now.facility, on: now.on, user: now.user };
        keep(b);
        if (mineOpen) { say(changed ? "sentolder" : "sent"); showConflict(false); clearErrors(); lock(res.body.url); }
      } else if (res.status === 409) {
        now.state = "conflict";
        keep(b);
        if (mineOpen) { say("conflict"); showConflict(true); }
      } else if (res.status === 422) {
        now.state = "draft";
        now.errors = res.body.fields || [];
        keep(b);
        if (mineOpen) { say("invalid"); showErrors(now.errors); }
      } else if (res.status === 401) {
        if (mineOpen) say("signin");
      } else if (mineOpen) {
        say("retry");
      }
      renderList();
    }).catch(function () {
      inflight[k] = false;
      if (mineOpen) { say("offline"); body.disabled = locked; }
      renderList();
    });
  }
  function sendQueued() {
    var a = drafts();
    var queued = Object.keys(a).filter(function (k) { return a[k].state === "queued" && mine(a[k]); });
    if (queued.length === 0 || !navigator.onLine) {
      queued.forEach(function (k) { if (k === key) say("offline"); });
      return Promise.resolve();
    }
    return whoami().catch(function () { return null; }).then(function (who) {
      return queued.reduce(function (p, k) { return p.then(function () { return send(k, who); }); }, Promise.resolve());
    }, function () {
      queued.forEach(function (k) { if (k === key) say("offline"); });
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (locked) return;
    clearErrors();
    save();
    var a = drafts();
    if (!has(a, key) || a[key].state === "sent") return;
    if (a[key].state === "conflict") { say("conflict"); showConflict(true); return; }
    a[key].state = "queued";
    if (!keep(a)) { say("nostore"); return; }
    say("queued");
    sendQueued();
  });
  correctionButton.addEventListener("click", function () {
    var a = drafts();
    if (!key || !has(a, key) || locked) return;
    var first = key;
    var next = newKey();
    field("draft_key").value = next;
    field("corrects_key").value = first;
    var d = {
      created: new Date().toISOString(), savedAt: new Date().toISOString(), pairs: pairs(),
      facility: facilityLabel(), on: (field("on") || {}).value || "", state: "queued", corrects: first,
      user: me, tab: TAB
    };
    // The conflicting copy is carried whole into the correction, so it leaves the list.
    delete a[first];
    key = next;
    a[next] = d;
    if (!keep(a)) { say("nostore"); return; }
    history.replaceState(null, "", "/visits/new?draft=" + encodeURIComponent(key));
    showConflict(false);
    say("queued");
    renderList();
    sendQueued();
  });
  // The connection returns (or the server comes back while the browser thought it was
  // online all along): queued drafts go out; nothing else does.
  window.addEventListener("online", sendQueued);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) sendQueued(); });
  setInterval(function () {
    var a = drafts();
    if (Object.keys(a).some(function (k) { return a[k].state === "queued" && mine(a[k]); })) sendQueued();
  }, 20000);

  // ---- Drafts on this device ----------------------------------------------------------
  function renderList() {
    if (!listBox) return;
    var ul = document.getElementById("device-drafts-list");
    var a = drafts();
    var keys = Object.keys(a).filter(function (k) { return mine(a[k]); })
      .sort(function (x, y) { return String(a[y].savedAt || "").localeCompare(String(a[x].savedAt || "")); });
    ul.textContent = "";
    keys.forEach(function (k) {
      var d = a[k];
      var li = document.createElement("li");
      li.setAttribute("data-key", k);
      li.setAttribute("data-state", d.state);
      var title = document.createElement("strong");
      title.textContent = (d.facility || attr(listBox, "untitled")) + (d.on ? " · " + d.on : "");
      li.appendChild(title);
      var state = document.createElement("p");
      state.className = "draft-state";
      state.textContent = attr(listBox, "state-" + d.state) + (d.savedAt ? " · " + clock(d.savedAt) : "") +
        (k === key ? " " + attr(listBox, "current") : "");
      li.appendChild(state);
      var actions = document.createElement("p");
      actions.className = "actions";
      var link = document.createElement("a");
      if (d.state === "sent") {
        link.href = typeof d.url === "string" && d.url.indexOf("/visits/") === 0 ? d.url : "/visits";
        link.textContent = attr(listBox, "view");
      } else {
        link.href = "/visits/new?draft=" + encodeURIComponent(k);
        link.textContent = attr(listBox, "open");
      }
      actions.appendChild(link);
      if (k !== key) {
        var drop = document.createElement("button");
        drop.type = "button";
        drop.className = "link";
        drop.textContent = attr(listBox, d.state === "sent" ? "forget" : "discard");
        drop.addEventListener("click", function () {
          if (d.state !== "sent" && !window.confirm(attr(listBox, "discard-confirm"))) return;
          var b = drafts();
          delete b[k];
          keep(b);
          renderList();
        });
        actions.appendChild(drop);
      }
      li.appendChild(actions);
      ul.appendChild(li);
    });
    listBox.hidden = keys.length === 0;
  }

  // ---- Opening the page -----------------------------------------------------------------
  var wanted = new URLSearchParams(location.search).get("draft");
  var asked = wanted;
  var kept = drafts();
  if (wanted && KEY_SHAPE.test(wanted) && has(kept, wanted) && mine(kept[wanted])) {
    key = wanted;
    var d = kept[wanted];
    lastWritten = JSON.stringify(d);
    fill(d);
    field("draft_key").value = wanted;
    if (d.state === "sent") { say("sent"); lock(d.url); }
    else if (d.state === "conflict") { say("conflict"); showConflict(true); }
    else if (d.state === "queued") { say(navigator.onLine ? "queued" : "offline"); }
    else {
      say("draft", clock(d.savedAt));
      if (d.errors && d.errors.length) showErrors(d.errors);
    }
  } else {
    // A new draft: its own key (the page may come from the offline cache, where every
    // copy carries the same one), today's date and the time now, on this device's clock.
    if (wanted) history.replaceState(null, "", "/visits/new");
    field("draft_key").value = newKey();
    field("corrects_key").value = "";
    var now = new Date();
    var on = field("on");
    if (on) on.value = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
    var tin = field("time_in");
    if (tin && !tin.value) tin.value = pad(now.getHours()) + ":" + pad(now.getMinutes());
  }
  progress();
  renderList();
  restoreDurable();
  sendQueued();
})();
