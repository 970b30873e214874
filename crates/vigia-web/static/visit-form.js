// The visit form keeps working without a connection: every change is saved in this
// browser (localStorage) under the draft's key, the page itself is kept by a service
// worker, and the draft is sent when the connection returns — exactly once, because
// the server stores each key once. Nothing here is needed for the form to work online.
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;
  var status = document.getElementById("draft-status");
  var STORE = "vigia-visit-drafts";
  var text = function (name) { return (status && status.getAttribute("data-" + name)) || name; };

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/visits/sw.js", { scope: "/visits/" }).catch(function () {});
  }

  function drafts() {
    try { return JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (e) { return {}; }
  }
  function keep(all) { localStorage.setItem(STORE, JSON.stringify(all)); }
  function pairs() {
    var out = [];
    new FormData(form).forEach(function (v, k) { if (typeof v === "string") out.push([k, v]); });
    return out;
  }
  function say(state, extra) {
    if (!status) return;
    status.textContent = text(state) + (extra ? " " + extra : "");
    status.setAttribute("data-state", state);
  }

  // A draft left unsent on this device comes back into the form, key and all.
  var all = drafts();
  var pending = Object.keys(all).filter(function (k) { return all[k].state !== "sent"; });
  if (pending.length > 0) {
    var d = all[pending[0]];
    d.pairs.forEach(function (p) {
      var el = form.elements.namedItem(p[0]);
      if (el && "value" in el) el.value = p[1];
    });
    say(d.state === "conflict" ? "conflict" : "saved", d.savedAt || "");
  }
  var key = form.elements.namedItem("draft_key").value;

  function save(state) {
    var a = drafts();
    a[key] = { pairs: pairs(), savedAt: new Date().toLocaleTimeString(), state: state || "saved" };
    keep(a);
    say(a[key].state, a[key].savedAt);
  }
  form.addEventListener("input", function () { save("saved"); });

  var sending = false;
  function send() {
    var a = drafts();
    var d = a[key];
    if (!d || d.state === "sent" || d.state === "conflict" || sending) return;
    if (!navigator.onLine) { say("offline"); return; }
    sending = true;
    say("sending");
    var body = new URLSearchParams();
    d.pairs.forEach(function (p) { body.append(p[0], p[1]); });
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) {
      return r.json().then(function (j) { return { status: r.status, body: j }; });
    }).then(function (res) {
      sending = false;
      var b = drafts();
      if (res.status === 200 || res.status === 201) {
        b[key].state = "sent";
        keep(b);
        say("sent");
        var link = document.getElementById("sent-link");
        if (link) { link.href = res.body.url; link.hidden = false; }
      } else if (res.status === 409) {
        b[key].state = "conflict";
        keep(b);
        say("conflict");
      } else {
        say("invalid", (res.body.errors || []).join(" · "));
      }
    }).catch(function () {
      sending = false;
      say("offline");
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    save("queued");
    send();
  });
  window.addEventListener("online", send);
  if (pending.length > 0) send();
})();
