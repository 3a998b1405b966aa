// Service worker: network first, cache as fallback, so that a reload works
// offline once the app (and any gallery file it fetched) has been loaded,
// and an online reload always gets the current files.
"use strict";
const CACHE = "dapo-inspect-v1";
const APP = ["./", "index.html", "style.css", "wasm_exec.js", "app.wasm"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(APP)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET" || new URL(req.url).origin !== self.location.origin) return;
  e.respondWith(
    fetch(req)
      .then((resp) => {
        if (resp.ok) {
          const copy = resp.clone();
          caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return resp;
      })
      .catch(() => caches.match(req).then((hit) => hit || Promise.reject(new Error("offline and not cached: " + req.url))))
  );
});
