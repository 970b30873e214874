// The visit form keeps working without a connection, and never sends by itself.
//
// Every change is kept in this browser (localStorage) under the draft's own key, and the
// address becomes /visits/new?draft=KEY so that a reload (a phone reloads a tab whenever
// the camera or a chat app is opened) brings the same draft back. A draft is sent only
// when the person presses "Send visit": at once if there is a connection, or, if there
// is none, it is queued and sent when the connection returns — exactly once, because the
// server stores each key once. Editing a queued draft takes it out of the queue. If the
// server already holds a different report under the key, nothing is overwritten: the
// person may send what they have as a correction (a new report linked to the first).
// The list "Drafts on this device" shows what is kept here, what is queued, what was sent.
(function () {
  "use strict";
  var STORE = "vigia-visit-drafts";
  var form = document.getElementById("visit-form");
  if (!form) return;
  var status = document.getElementById("draft-status");
  var listBox = document.getElementById("device-drafts");
  var body = document.getElementById("form-body");
  var sendButton = document.getElementById("send-visit");
  var errorsBox = document.getElementById("form-errors");
  var conflictBox = document.getElementById("conflict-box");
  var field = function (name) { return form.elements.namedItem(name); };
  var attr = function (el, name) { return (el && el.getAttribute("data-" + name)) || name; };

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/visits/sw.js", { scope: "/visits/" }).catch(function () {});
  }

  function drafts() {
    try {
      var all = JSON.parse(localStorage.getItem(STORE) || "{}") || {};
      Object.keys(all).forEach(function (k) {
        // Drafts kept by the earlier version of this script were "saved": they are drafts.
        if (["draft", "queued", "sent", "conflict"].indexOf(all[k].state) < 0) all[k].state = "draft";
      });
      return all;
    } catch (e) { return {}; }
  }
  function keep(all) {
    try { localStorage.setItem(STORE, JSON.stringify(all)); return true; } catch (e) { return false; }
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
  function fill(d) {
    var max = 0;
    d.pairs.forEach(function (p) {
      var m = /^findings\.(\d+)\./.exec(p[0]);
      if (m) max = Math.max(max, Number(m[1]) + 1);
    });
    while (findingCount() < Math.min(max, 50)) addFinding();
    d.pairs.forEach(function (p) {
      var el = field(p[0]);
      if (el && "value" in el) el.value = p[1];
    });
  }
  function lock(url) {
    body.disabled = true;
    sendButton.hidden = true;
    var link = document.getElementById("sent-link");
    if (link) { link.href = url || "/visits"; link.hidden = false; }
    var again = document.getElementById("new-draft");
    if (again) again.hidden = false;
  }
  var correctionButton = document.getElementById("send-correction");
  function showConflict(on) {
    conflictBox.hidden = !on;
    correctionButton.hidden = !on;
    sendButton.hidden = on;
  }
  function save() {
    if (!key) {
      key = field("draft_key").value;
      history.replaceState(null, "", "/visits/new?draft=" + encodeURIComponent(key));
    }
    var a = drafts();
    var d = a[key] || { created: new Date().toISOString() };
    if (d.state === "sent") return;
    var wasQueued = d.state === "queued";
    d.pairs = pairs();
    d.savedAt = new Date().toISOString();
    d.facility = facilityLabel();
    d.on = (field("on") || {}).value || "";
    if (d.state !== "conflict") d.state = "draft";
    a[key] = d;
    if (!keep(a)) { say("nostore"); return; }
    say(wasQueued ? "unqueued" : "draft", clock(d.savedAt));
    renderList();
  }
  form.addEventListener("input", function () { save(); progress(); });
  form.addEventListener("change", function () { save(); progress(); });

  // ---- Sending: only what the person queued -----------------------------------------
  var inflight = {};
  function send(k) {
    var a = drafts();
    var d = a[k];
    if (!d || d.state !== "queued" || inflight[k]) return Promise.resolve();
    if (!navigator.onLine) {
      if (k === key) say("offline");
      renderList();
      return Promise.resolve();
    }
    inflight[k] = true;
    if (k === key) say("sending");
    var data = new URLSearchParams();
    d.pairs.forEach(function (p) { data.append(p[0], p[1]); });
    data.append("csrf", field("csrf").value);
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
      var now = b[k];
      if (!now) return;
      var mine = k === key;
      if (res.status === 200 || res.status === 201) {
        now.state = "sent";
        now.url = res.body.url;
        now.sentAt = new Date().toISOString();
        keep(b);
        if (mine) { say("sent"); showConflict(false); clearErrors(); lock(now.url); }
      } else if (res.status === 409) {
        now.state = "conflict";
        keep(b);
        if (mine) { say("conflict"); showConflict(true); }
      } else if (res.status === 422) {
        now.state = "draft";
        now.errors = res.body.fields || [];
        keep(b);
        if (mine) { say("invalid"); showErrors(now.errors); }
      } else if (res.status === 401) {
        if (mine) say("signin");
      } else {
        if (mine) say("retry");
      }
      renderList();
    }).catch(function () {
      inflight[k] = false;
      if (k === key) say("offline");
      renderList();
    });
  }
  function sendQueued() {
    var a = drafts();
    return Object.keys(a).filter(function (k) { return a[k].state === "queued"; })
      .reduce(function (p, k) { return p.then(function () { return send(k); }); }, Promise.resolve());
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearErrors();
    save();
    var a = drafts();
    if (!a[key] || a[key].state === "sent") return;
    if (a[key].state === "conflict") { say("conflict"); showConflict(true); return; }
    a[key].state = "queued";
    if (!keep(a)) { say("nostore"); return; }
    say("queued");
    send(key);
  });
  correctionButton.addEventListener("click", function () {
    var a = drafts();
    if (!key || !a[key]) return;
    var first = key;
    var next = newKey();
    field("draft_key").value = next;
    field("corrects_key").value = first;
    var d = {
      created: new Date().toISOString(), savedAt: new Date().toISOString(), pairs: pairs(),
      facility: facilityLabel(), on: (field("on") || {}).value || "", state: "queued", corrects: first
    };
    // The conflicting copy is carried whole into the correction, so it leaves the list.
    delete a[first];
    a[next] = d;
    if (!keep(a)) { say("nostore"); return; }
    key = next;
    history.replaceState(null, "", "/visits/new?draft=" + encodeURIComponent(key));
    showConflict(false);
    say("queued");
    renderList();
    send(key);
  });
  window.addEventListener("online", sendQueued);

  // ---- Drafts on this device ----------------------------------------------------------
  function renderList() {
    if (!listBox) return;
    var ul = document.getElementById("device-drafts-list");
    var a = drafts();
    var keys = Object.keys(a).sort(function (x, y) { return (a[y].savedAt || "").localeCompare(a[x].savedAt || ""); });
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
        link.href = d.url || "/visits";
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
  window.addEventListener("storage", renderList);

  // ---- Opening the page -----------------------------------------------------------------
  var wanted = new URLSearchParams(location.search).get("draft");
  var kept = drafts();
  if (wanted && kept[wanted]) {
    key = wanted;
    var d = kept[wanted];
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
  sendQueued();
})();
