// Keeps the visit form and what it needs available without a connection. Pages are
// fetched from the network first (so they are fresh) and served from this cache when
// the network fails; nothing else is cached.
var CACHE = "vigia-visits-v1";
var OFFLINE = ["/visits/new", "/static/app.css", "/static/visit-form.js"];

self.addEventListener("install", function (ev) {
  ev.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(OFFLINE); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (ev) {
  ev.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (ev) {
  var url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (OFFLINE.indexOf(url.pathname) < 0) return;
  ev.respondWith(
    fetch(ev.request).then(function (r) {
      if (r.ok) {
        var copy = r.clone();
        caches.open(CACHE).then(function (c) { c.put(url.pathname, copy); });
      }
      return r;
    }).catch(function () {
      return caches.match(url.pathname);
    })
  );
});
