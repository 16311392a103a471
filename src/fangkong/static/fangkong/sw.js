/* Fangkong field app service worker (issue 20). Served at /sw.js by fangkong.web.field, which
   prepends self.FIELD = {version, shell, pages}. Strategy:
   - app shell (vendored CSS/JS, icons): precached at install, cache first;
   - the offline screens (FIELD.pages: the doctor's round, the grid worker's visits and recall
     tasks, a checkpoint's passage log and roster, the scan screen, the daily report): network first, the last good copy when offline; the app's start ("/") offline opens
     the first screen kept. A page pattern's "*" stands for one path segment (a post's id);
   - everything else, and every /api/ call, goes to the network untouched. */
"use strict";

const CACHE = "fangkong-field-" + self.FIELD.version;
const PREFIX = "fangkong-field-";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(self.FIELD.shell)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k)))
      )
      .then(() => self.clients.claim())
  );
});

function matches(pattern, path) {
  if (!pattern.includes("*")) return path === pattern;
  const parts = path.split("/");
  const want = pattern.split("/");
  return parts.length === want.length && want.every((w, i) => (w === "*" ? parts[i] !== "" : w === parts[i]));
}

function isOfflinePage(url) {
  return self.FIELD.pages.some((p) => matches(p, url.pathname));
}

// The kept copy of a page; for the app's start ("/"), the first kept screen in FIELD.pages order.
async function kept(cache, path) {
  if (path !== "/") return cache.match(path);
  const stored = (await cache.keys()).map((r) => new URL(r.url).pathname);
  for (const pattern of self.FIELD.pages) {
    const hit = stored.find((p) => matches(pattern, p));
    if (hit) return cache.match(hit);
  }
  return undefined;
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    // Only a real page of the screen: never a redirect to the login page or an error.
    if (response.ok && !response.redirected && response.type === "basic") {
      await cache.put(new URL(request.url).pathname, response.clone());
    }
    return response;
  } catch (err) {
    const cached = await kept(cache, new URL(request.url).pathname);
    if (cached) return cached;
    return new Response(
      "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
        "<title>离线</title><p style='font:16px system-ui;padding:1rem'>当前离线，且本页尚未在联网时打开过。" +
        "请联网后打开一次“今日巡查”“待走访”“通行登记”“采样扫码”“本单位今日日报”“召回任务”或“排班表”，之后即可离线使用。</p>",
      { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
    );
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate" && (isOfflinePage(url) || url.pathname === "/")) {
    event.respondWith(networkFirst(request));
  } else if (self.FIELD.shell.includes(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});
