// The attempts import page shows how far an upload has come. Without this script the
// form posts as any form does and the result page comes back at the end; with it, the
// same form is posted in the background (only when the person presses the button), a
// bar follows the bytes sent, and once a second the server is asked how many rows it
// has read and checked, how fast, and how many problems it has found so far (rows are
// read as they arrive). The server's answer page then takes the place of this one.
//
// The server keeps nothing unless the whole file was valid: a connection lost half-way
// imports nothing, and the page says so and lets the person send the file again.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  var box = document.getElementById("import-progress");
  if (!form || !box || !form.getAttribute("data-progress") || !window.XMLHttpRequest || !window.FormData) return;
  var bar = document.getElementById("import-bar");
  var status = document.getElementById("import-status");
  var button = document.getElementById("import");
  var text = function (name, slots) {
    var t = form.getAttribute("data-" + name) || "";
    Object.keys(slots || {}).forEach(function (k) {
      t = t.split("%" + k.toUpperCase() + "%").join(String(slots[k]));
    });
    return t;
  };
  var number = function (n) {
    try { return Number(n).toLocaleString(document.documentElement.lang || undefined); } catch (e) { return String(n); }
  };
  var randomKey = function () {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  };

  form.addEventListener("submit", function (ev) {
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    if (!file || !window.crypto || !window.crypto.getRandomValues) return; // the plain post
    ev.preventDefault();
    var key = randomKey();
    var done = false;
    box.hidden = false;
    button.disabled = true;
    bar.max = Math.max(file.size, 1);
    bar.value = 0;
    status.textContent = text("sending");

    var ask = function () {
      if (done) return;
      var req = new XMLHttpRequest();
      req.open("GET", form.getAttribute("data-progress") + key);
      req.setRequestHeader("Accept", "application/json");
      req.onload = function () {
        if (done || req.status !== 200) return;
        var p;
        try { p = JSON.parse(req.responseText); } catch (e) { return; }
        if (p.phase === "storing" || p.phase === "done") {
          status.textContent = text("storing", { stored: number(p.rows_stored), rows: number(p.rows_read), rate: number(p.rows_per_second) });
        } else {
          status.textContent = text("reading", { rows: number(p.rows_read), rate: number(p.rows_per_second), problems: number(p.problems) });
        }
      };
      req.send();
    };
    var timer = window.setInterval(ask, 1000);

    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") + "?progress=" + key);
    xhr.upload.onprogress = function (e) { bar.value = e.loaded; };
    xhr.onload = function () {
      done = true;
      window.clearInterval(timer);
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var main = doc.getElementById("main");
      var here = document.getElementById("main");
      if (!main || !here) { status.textContent = text("failed"); button.disabled = false; return; }
      here.replaceWith(main);
      document.title = doc.title;
      // The answer's own form and bar are new elements: this script follows them too.
      var again = document.createElement("script");
      again.src = "/static/import-progress.js";
      document.body.appendChild(again);
      var focus = document.getElementById("import-errors") || main.querySelector(".flash") || main.querySelector("h1");
      if (focus) { focus.setAttribute("tabindex", "-1"); focus.focus(); }
    };
    xhr.onerror = xhr.onabort = function () {
      done = true;
      window.clearInterval(timer);
      status.textContent = text("failed");
      button.disabled = false;
    };
    xhr.send(new FormData(form));
  });
})();
