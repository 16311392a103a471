/* Fangkong field app (issue 20): registers the service worker on every page, and on the
   doctor's round (<ol data-field-round>) and the grid worker's visits (<ul data-field-visits>)
   keeps each record in an IndexedDB queue until the server has it. Each queued reading has
   its own idempotency key and the order version it was based on; the server answers per
   record (stored / duplicate / conflict / invalid / not_found). A conflict stays on screen
   with both values until the user decides.
   The queue, the POST and the sync loop (one sync at a time, retried with backoff) live here
   once, as window.FangkongField, for the other offline screens too (testing/field.js,
   reports/field.js, checkpoints/queue.js): being in the <head> of every page, this file runs
   before them. */
(function () {
  "use strict";

  // This browser's device key (core.devices): the server registers the phone on the first
  // signed-in request and can revoke it when it is lost. A refused (revoked) device has its
  // cookie deleted by the server; the next page takes a new key, a new device.
  if (!/(?:^|;\s*)fk_device=/.test(document.cookie)) {
    var deviceKey = (window.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2));
    document.cookie = "fk_device=" + deviceKey + "; path=/; max-age=31536000; samesite=lax";
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }

  // Logging out drops the cached copies of the offline screens (names of persons in
  // isolation must not stay readable on a shared phone); the queue stays, tied to the user,
  // and is sent when that user logs in again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("logout-form") || form.dataset.cleared) return;
    if (!window.caches) return;
    event.preventDefault();
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf("fangkong-field-") === 0; })
        .map(function (k) {
          return caches.open(k).then(function (cache) {
            return cache.keys().then(function (requests) {
              return Promise.all(requests.filter(function (r) {
                return new URL(r.url).pathname.indexOf("/static/") !== 0;
              }).map(function (r) { return cache.delete(r); }));
            });
          });
        }));
    }).catch(function () {}).then(function () {
      // The stored work sets hold names too (the queue of records stays, as above).
      return new Promise(function (resolve) {
        if (!window.indexedDB) return resolve();
        var req = indexedDB.deleteDatabase(WORKSET_DB);
        req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
      });
    }).then(function () {
      form.dataset.cleared = "1";
      form.submit();
    });
  }, true);

  var WORKSET_DB = "fangkong-field-workset";

  // --- FangkongField: what every offline screen shares --------------------------------------
  // This file is in the <head> of every page (deferred), so it runs before the screens' own
  // scripts (testing/field.js, reports/field.js, checkpoints/queue.js, deferred in the body):
  // they take the queue, the POST and the sync loop from here, so that a fix (such as the
  // retry below) reaches every screen at once. Each screen keeps its own database and store:
  // phones in the field have records queued under those names.

  var EXPIRED = "登录已失效，请重新登录后同步（记录仍保存在本机）";
  var RETRY_FIRST = 3000;
  var RETRY_MOST = 60000;

  // One IndexedDB object store keyed by "key", with an index "user" (a shared phone keeps
  // each user's records apart). options.close: close the database after each transaction,
  // as the checkpoint log always has (no connection left open in the tab).
  function store(dbName, storeName, options) {
    var close = !!(options && options.close);

    // A database found without its store (created empty by something else) is upgraded to
    // the next version with the store, rather than failing every transaction for good.
    function openDb(version) {
      return new Promise(function (resolve, reject) {
        var req = version ? indexedDB.open(dbName, version) : indexedDB.open(dbName);
        req.onupgradeneeded = function () {
          if (!req.result.objectStoreNames.contains(storeName)) {
            req.result.createObjectStore(storeName, { keyPath: "key" }).createIndex("user", "user");
          }
        };
        req.onsuccess = function () {
          var db = req.result;
          db.onversionchange = function () { db.close(); };  // never block another tab's upgrade
          if (db.objectStoreNames.contains(storeName)) return resolve(db);
          var next = db.version + 1;
          db.close();
          resolve(openDb(next));
        };
        req.onerror = function () { reject(req.error); };
      });
    }

    function tx(mode, work) {
      return openDb(0).then(function (db) {
        return new Promise(function (resolve, reject) {
          var t = db.transaction(storeName, mode);
          var result = work(t.objectStore(storeName));
          t.oncomplete = function () {
            if (close) db.close();
            resolve(result && "result" in result ? result.result : result);
          };
          t.onerror = function () {
            if (close) db.close();
            reject(t.error);
          };
        });
      });
    }

    return {
      tx: tx,
      all: function (user) { return tx("readonly", function (s) { return s.index("user").getAll(user); }); },
      put: function (record) { return tx("readwrite", function (s) { s.put(record); }); },
      drop: function (key) { return tx("readwrite", function (s) { s.delete(key); }); }
    };
  }

  // A record's idempotency key. options.dashes === false: without dashes, the form the
  // checkpoint log's client keys have always had.
  function newKey(options) {
    var key = window.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
    return options && options.dashes === false ? key.replace(/-/g, "") : key;
  }

  // The token htmx sends (on <body>); fallback: a selector of a form's hidden
  // csrfmiddlewaretoken, read when <body> has none (the checkpoint log's way).
  function csrfToken(fallback) {
    try {
      var token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
      if (token) return token;
    } catch (e) { /* the fallback below */ }
    var input = fallback ? document.querySelector(fallback) : null;
    return input ? input.value : "";
  }

  // The error a refused batch throws; its status tells the sync loop whether to retry (an
  // expired login is not retried: the user must sign in again).
  function failure(status, expired) {
    var auth = status === 401 || status === 403;
    var err = new Error(auth ? expired || EXPIRED : "服务器暂时无法接收（" + status + "），稍后自动重试");
    err.status = status;
    return err;
  }

  // POST JSON to a sync endpoint; the raw response (the checkpoint log reads 400s per record).
  function post(url, body, options) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(options && options.csrf) },
      body: JSON.stringify(body)
    });
  }

  // One batch of queued records up to a sync endpoint; the answer per record, or an error
  // whose message the sync bar shows (the records stay queued either way).
  // options.expired: the screen's own words for an expired login; options.csrf: see csrfToken.
  function send(url, body, options) {
    return post(url, body, options).then(function (response) {
      if (!response.ok) throw failure(response.status, options && options.expired);
      return response.json();
    });
  }

  // The status bar's words: online or not, how many records wait ("3 条走访待同步"), how many
  // the server refused and wait for the user.
  function summary(records, noun) {
    var pending = records.filter(function (r) { return r.state === "pending"; }).length;
    var problems = records.length - pending;
    var text = (navigator.onLine ? "在线" : "离线") +
      (pending ? "：" + pending + " 条" + (noun || "") + "待同步" : "：全部已同步");
    if (problems) text += "，" + problems + " 条需处理";
    return { text: text, pending: pending, problems: problems };
  }

  // One round of the per-record sync (round, visits, samples, zero reports); nothing when
  // offline or when nothing waits. options: records (the user's queue), queue (its store),
  // url, field (the body's list: "readings"…), item(r) (a record as the endpoint takes it),
  // max (records a batch), more (the sync loop's), say, expired (see send). A record the
  // server has (stored / duplicate) leaves the queue, then landed(r, res); one it did not
  // take stays, with the server's status, message and state, then refused(r, res).
  function sendPending(options) {
    var pending = options.records.filter(function (r) { return r.state === "pending"; });
    if (!pending.length || !navigator.onLine) return Promise.resolve(null);
    options.say("同步中…");
    var batch = pending.slice(0, options.max || 500);
    if (pending.length > batch.length && options.more) options.more();
    var body = { device: navigator.userAgent.slice(0, 64) };
    body[options.field] = batch.map(options.item);
    return send(options.url, body, options).then(function (answer) {
      var byKey = {};
      batch.forEach(function (r) { byKey[r.key] = r; });
      return Promise.all(answer.results.map(function (res) {
        var r = byKey[res.key];
        if (!r) return null;
        if (res.status === "stored" || res.status === "duplicate") {
          return options.queue.drop(r.key).then(function () { return options.landed(r, res); });
        }
        r.state = res.status;
        r.message = res.message || "";
        r.server = res.server || null;
        return options.queue.put(r).then(function () { return options.refused && options.refused(r, res); });
      }));
    });
  }

  function retriable(err) { return !(err && (err.status === 401 || err.status === 403)); }

  // fn again after a failure, by itself: the bar says "稍后自动重试", and a phone that is
  // "online" with no server behind it (a dead spot, a server restarting) gets no online event.
  // later(): once, 3 s after the first failure, doubling up to 60 s; a pending retry is kept.
  // reset(): none pending, the next failure waits 3 s again (after a success, offline).
  function retrier(fn, options) {
    var first = (options && options.first) || RETRY_FIRST;
    var most = (options && options.most) || RETRY_MOST;
    var delay = first;
    var timer = null;
    function reset() {
      if (timer) clearTimeout(timer);
      timer = null;
      delay = first;
    }
    function later() {
      if (timer || !navigator.onLine) return;
      timer = setTimeout(function () { timer = null; fn(); }, delay);
      delay = Math.min(delay * 2, most);
    }
    window.addEventListener("offline", reset);
    return { later: later, reset: reset };
  }

  // A screen's sync: one at a time (a call while one runs asks for another round after it,
  // for a record queued meanwhile), retried with backoff when it fails for anything but an
  // expired login. options:
  //   attempt(more): sends what is queued (nothing when offline or nothing pending); calls
  //     more() when a batch left records behind. A rejection is the failure.
  //   settle(): repaints after every attempt, good or not (the status bar, the rows).
  //   say(text): shows a failure's message after settle, unless quiet matches it.
  //   quiet: the failures not worth a message (default: the network error, "Failed to fetch").
  //   lock: a Web Lock name, for one sync across tabs.
  // Returns sync(), a promise that ends with the round it started (and any asked for since).
  function syncLoop(options) {
    var busy = false;
    var again = false;
    var quiet = options.quiet || /Failed to fetch/;
    var retry = retrier(sync);

    function more() { again = true; }
    function attempt() {
      return new Promise(function (resolve) { resolve(options.attempt(more)); });
    }

    function sync() {
      if (busy) { again = true; return Promise.resolve(); }
      busy = true;
      again = false;
      var failed = null;
      var work = options.lock && navigator.locks
        ? navigator.locks.request(options.lock, function () { return attempt(); }) : attempt();
      return work
        .then(function () { retry.reset(); }, function (err) {
          failed = err || new Error("");
          if (retriable(failed)) retry.later();
          else retry.reset();
        })
        .then(function () { return options.settle ? options.settle() : null; })
        .catch(function () {})
        .then(function () {
          busy = false;
          if (failed && failed.message && !quiet.test(failed.message) && options.say) options.say(failed.message);
          // After a failure the retry (or the online event, or a new login) sends the rest.
          if (again && !failed && navigator.onLine) return sync();
        });
    }
    return sync;
  }

  // fn once the page is parsed, on a browser with IndexedDB (without it, a screen stays
  // online only).
  function ready(fn) {
    if (!window.indexedDB) return;
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  window.FangkongField = Object.freeze({
    EXPIRED: EXPIRED,
    store: store,
    newKey: newKey,
    csrfToken: csrfToken,
    failure: failure,
    post: post,
    send: send,
    summary: summary,
    sendPending: sendPending,
    retrier: retrier,
    syncLoop: syncLoop,
    ready: ready
  });

  // The round and the visits: one queue for both screens; a record's kind says which sync
  // endpoint takes it (readings of the round carry no kind: "reading").
  var fieldQueue = store("fangkong-field", "queue");
  var put = fieldQueue.put;
  var drop = fieldQueue.drop;
  function allOf(user, kind) {
    return fieldQueue.all(user).then(function (records) {
      return records.filter(function (r) { return (r.kind || "reading") === kind; });
    });
  }

  function init(list) {
    var user = list.getAttribute("data-user") || "";
    var syncUrl = list.getAttribute("data-sync-url");
    var status = document.getElementById("field-status");
    var button = document.getElementById("field-sync");

    function say(text) { if (status) status.textContent = text; }

    function rowOf(orderId) { return document.getElementById("round-" + orderId); }

    function label(r) {
      if (!r.at_home) return "不在家";
      return r.temperature != null ? r.temperature.toFixed(1) + " °C" : "正常";
    }

    function paint(r) {
      var row = rowOf(r.order_id);
      if (!row) return;
      var box = row.querySelector(".field-state");
      if (!box) {
        box = document.createElement("div");
        box.className = "field-state";
        row.appendChild(box);
      }
      row.querySelectorAll("form, details.q-more").forEach(function (el) { el.hidden = true; });
      box.textContent = "";
      var badge = document.createElement("span");
      box.appendChild(badge);
      if (r.state === "pending") {
        row.classList.add("is-pending");
        badge.className = "field-pending";
        badge.textContent = label(r) + " · 待同步";
      } else if (r.state === "synced") {
        row.classList.remove("is-pending");
        row.classList.add("is-done");
        badge.className = "q-ok field-synced";
        badge.textContent = label(r) + " ✓ 已同步" + (r.alerts && r.alerts.length ? "（已预警）" : "");
      } else {
        row.classList.remove("is-pending");
        row.classList.add("has-conflict");
        badge.className = "field-conflict";
        badge.setAttribute("role", "alert");
        badge.textContent = (r.state === "conflict" ? "冲突：" : "未保存：") + label(r) + "。" + (r.message || "");
        if (r.state === "conflict" && r.server && r.server.status === "active") {
          var again = document.createElement("button");
          again.type = "button";
          again.className = "button";
          again.textContent = "按服务器新版本重新提交";
          again.addEventListener("click", function () {
            r.version = r.server.version;
            r.state = "pending";
            r.message = "";
            put(r).then(function () { paint(r); sync(); });
          });
          box.appendChild(again);
        }
        var discard = document.createElement("button");
        discard.type = "button";
        discard.className = "button button-quiet";
        discard.textContent = "放弃此记录";
        discard.addEventListener("click", function () {
          drop(r.key).then(function () {
            box.remove();
            row.classList.remove("has-conflict");
            row.querySelectorAll("form, details.q-more").forEach(function (el) { el.hidden = false; });
            refreshStatus();
          });
        });
        box.appendChild(discard);
      }
    }

    function refreshStatus() {
      return allOf(user, "reading").then(function (records) {
        var now = summary(records);
        say(now.text);
        if (button) button.disabled = !now.pending;
        return records;
      });
    }

    var sync = syncLoop({ attempt: attempt, settle: refreshStatus, say: say });

    function attempt(more) {
      return allOf(user, "reading").then(function (records) {
        var landed = {};
        var any = false;
        return sendPending({
          records: records, queue: fieldQueue, url: syncUrl, field: "readings", more: more, say: say,
          item: function (r) {
            return {
              key: r.key, order_id: r.order_id, version: r.version, taken_at: r.taken_at,
              temperature: r.temperature, normal: r.normal, symptoms: r.symptoms,
              at_home: r.at_home, note: ""
            };
          },
          landed: function (r, res) {
            landed[r.order_id] = true;
            any = true;
            paint({ order_id: r.order_id, state: "synced", at_home: r.at_home,
                    temperature: r.temperature, alerts: res.alerts });
          },
          refused: paint
        }).then(function () { if (any) return refreshRows(landed); });
      });
    }

    // After a sync, the server's own rendering of the rows just synced (alerts, progress)
    // replaces the local marks; other rows (one being filled in, one still queued) stay.
    function refreshRows(synced) {
      return fetch(window.location.pathname, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok || response.redirected) return null;
          return response.text();
        })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          return allOf(user, "reading").then(function (records) {
            var held = {};
            records.forEach(function (r) { held[r.order_id] = true; });
            doc.querySelectorAll("li.q-row").forEach(function (fresh) {
              var id = fresh.getAttribute("data-order");
              var current = rowOf(id);
              if (!current || held[id] || !synced[id]) return;
              var node = document.importNode(fresh, true);
              current.replaceWith(node);
              if (window.htmx) window.htmx.process(node);
            });
            var progress = doc.getElementById("round-progress");
            var here = document.getElementById("round-progress");
            if (progress && here) here.replaceWith(document.importNode(progress, true));
            var headers = doc.body && doc.body.getAttribute("hx-headers");
            if (headers) document.body.setAttribute("hx-headers", headers);
          });
        })
        .catch(function () {});
    }

    function reading(form, orderId) {
      var data = new FormData(form);
      var row = rowOf(orderId);
      var r = {
        key: newKey(), user: user, kind: "reading", order_id: orderId,
        version: parseInt(row.getAttribute("data-version"), 10),
        taken_at: new Date().toISOString(), temperature: null, normal: false,
        symptoms: [], at_home: true, state: "pending"
      };
      if (data.get("normal") === "1") {
        r.normal = true;
        return r;
      }
      if (data.get("absent")) {
        r.at_home = false;
        return r;
      }
      var t = parseFloat(String(data.get("temperature") || "").replace(",", "."));
      if (isNaN(t) || t < 34 || t > 43) return null;
      r.temperature = Math.round(t * 10) / 10;
      r.symptoms = data.getAll("symptoms");
      return r;
    }

    // Before htmx: every reading of the round goes through the queue (online it is sent at once).
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var row = form.closest && form.closest("li.q-row");
      if (!row || !list.contains(row)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      var orderId = parseInt(row.getAttribute("data-order"), 10);
      var r = reading(form, orderId);
      if (!r) {
        var error = row.querySelector(".field-error") || document.createElement("p");
        error.className = "error field-error";
        error.setAttribute("role", "alert");
        error.textContent = "请输入 34.0–43.0 之间的体温，如 36.5";
        row.appendChild(error);
        return;
      }
      var old = row.querySelector(".field-error");
      if (old) old.remove();
      put(r).then(function () {
        paint(r);
        return refreshStatus();
      }).then(function () {
        if (navigator.onLine) sync();
      });
    }, true);

    if (button) button.addEventListener("click", function () { sync(); });
    window.addEventListener("online", function () { sync(); });
    window.addEventListener("offline", function () { refreshStatus(); });

    allOf(user, "reading").then(function (records) {
      records.forEach(paint);
      return refreshStatus();
    }).then(function () {
      if (navigator.onLine) sync();
    });
  }

  // The grid worker's visits: the same queue, bar and answers as the round. A visit is made
  // once, so a conflict (recorded by someone else, or handed to another grid worker) can only
  // be dropped; the server's state is shown with it.
  function initVisits(list) {
    var user = list.getAttribute("data-user") || "";
    var syncUrl = list.getAttribute("data-sync-url");
    var status = document.getElementById("field-status");
    var button = document.getElementById("field-sync");

    function say(text) { if (status) status.textContent = text; }
    function rowOf(taskId) { return document.getElementById("visit-" + taskId); }

    function label(r) {
      if (!r.present) return "不在家";
      if (r.healthy) return "在家 · 正常";
      return "在家 · 有症状" + (r.temperature != null ? " " + r.temperature.toFixed(1) + " °C" : "");
    }

    function showForms(row, shown) {
      row.querySelectorAll("form.visit-quick, details.visit-more").forEach(function (el) {
        el.hidden = !shown;
      });
    }

    // A record whose visit is no longer on the page (recorded by someone else, handed over,
    // on another page of the list) is shown above the list, with the person's name.
    function holderOf(r) {
      var row = rowOf(r.task_id);
      if (row) return row;
      if (r.state === "synced") return null;
      var area = document.getElementById("field-problems");
      if (!area) {
        area = document.createElement("div");
        area.id = "field-problems";
        var bar = document.getElementById("field-bar");
        if (bar) bar.insertAdjacentElement("afterend", area);
        else list.insertAdjacentElement("beforebegin", area);
      }
      var holder = document.getElementById("field-record-" + r.key);
      if (!holder) {
        holder = document.createElement("div");
        holder.id = "field-record-" + r.key;
        holder.className = "panel visit field-orphan";
        var name = document.createElement("strong");
        name.textContent = r.name || "";
        holder.appendChild(name);
        area.appendChild(holder);
      }
      return holder;
    }

    function paint(r) {
      var row = holderOf(r);
      if (!row) return;
      var box = row.querySelector(".field-state");
      if (!box) {
        box = document.createElement("div");
        box.className = "field-state";
        row.appendChild(box);
      }
      showForms(row, false);
      box.textContent = "";
      var badge = document.createElement("span");
      box.appendChild(badge);
      row.classList.remove("is-pending", "has-conflict");
      if (r.state === "pending") {
        row.classList.add("is-pending");
        badge.className = "field-pending";
        badge.textContent = label(r) + " · 待同步";
        return;
      }
      if (r.state === "synced") {
        badge.className = "q-ok field-synced";
        badge.textContent = label(r) + " ✓ 已同步";
        return;
      }
      row.classList.add("has-conflict");
      badge.className = "field-conflict";
      badge.setAttribute("role", "alert");
      badge.textContent = (r.state === "conflict" ? "冲突：" : "未保存：") + label(r) + "。" + (r.message || "");
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button button-quiet";
      discard.textContent = "放弃此记录";
      discard.addEventListener("click", function () {
        drop(r.key).then(function () {
          box.remove();
          row.classList.remove("has-conflict");
          if (row.classList.contains("field-orphan")) row.remove();
          else if (r.state !== "conflict") showForms(row, true);
          refreshStatus();
        });
      });
      box.appendChild(discard);
    }

    function refreshStatus() {
      return allOf(user, "visit").then(function (records) {
        var now = summary(records, "走访");
        say(now.text);
        if (button) button.disabled = !now.pending;
        return records;
      });
    }

    var sync = syncLoop({ attempt: attempt, settle: refreshStatus, say: say });

    function attempt(more) {
      return allOf(user, "visit").then(function (records) {
        return sendPending({
          records: records, queue: fieldQueue, url: syncUrl, field: "visits", more: more, say: say,
          item: function (r) {
            return {
              key: r.key, task_id: r.task_id, taken_at: r.taken_at, present: r.present,
              healthy: r.healthy, temperature: r.temperature, symptoms: r.symptoms,
              phone: r.phone, note: r.note
            };
          },
          landed: function (r) {
            r.state = "synced";
            paint(r);
          },
          refused: paint
        });
      });
    }

    function visitOf(form, taskId) {
      var data = new FormData(form);
      var row = rowOf(taskId);
      var name = row && row.querySelector(".visit-head strong");
      var r = {
        key: newKey(), user: user, kind: "visit", task_id: taskId,
        name: name ? name.textContent : "",
        taken_at: new Date().toISOString(), present: data.get("present") !== "no",
        healthy: data.get("health") !== "symptoms", temperature: null,
        symptoms: String(data.get("symptoms") || "").trim().slice(0, 100),
        phone: String(data.get("phone") || "").trim().slice(0, 20),
        note: String(data.get("note") || "").trim().slice(0, 200), state: "pending"
      };
      var text = String(data.get("temperature") || "").trim().replace(",", ".");
      if (text) {
        var t = parseFloat(text);
        if (isNaN(t) || t < 34 || t > 43) return null;
        r.temperature = Math.round(t * 10) / 10;
      }
      return r;
    }

    document.addEventListener("submit", function (event) {
      var form = event.target;
      var row = form.closest && form.closest("li.visit");
      if (!row || !list.contains(row)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      var r = visitOf(form, parseInt(row.getAttribute("data-task"), 10));
      var old = row.querySelector(".field-error");
      if (!r) {
        var error = old || document.createElement("p");
        error.className = "error field-error";
        error.setAttribute("role", "alert");
        error.textContent = "请输入 34.0–43.0 之间的体温，如 36.5";
        form.appendChild(error);
        return;
      }
      if (old) old.remove();
      put(r).then(function () {
        paint(r);
        return refreshStatus();
      }).then(function () {
        if (navigator.onLine) sync();
      });
    }, true);

    if (button) button.addEventListener("click", function () { sync(); });
    window.addEventListener("online", function () { sync(); });
    window.addEventListener("offline", function () { refreshStatus(); });

    // Offline, the kept page holds its first 50 visits: the rest of the work set, stored on
    // the phone, is drawn below them (online the server's pages show them).
    var shown = navigator.onLine ? Promise.resolve() : drawStoredVisits(list, user).catch(function () {});
    shown.then(function () { return allOf(user, "visit"); }).then(function (records) {
      records.forEach(paint);
      return refreshStatus();
    }).then(function () {
      if (navigator.onLine) {
        sync();
        refreshWorkSet(list, user).catch(function () {});
      }
    });
  }

  // The grid worker's work set on the phone (fangkong-field-workset / visits): every open
  // visit with its name, grid, reason and due time (no ID number or phone), one record per
  // visit plus the cursor of the last download. Online, each open of the visits page asks
  // the server for what changed since that cursor (GET …/workset?since=) and applies it:
  // a full answer replaces the set, a delta adds or updates its visits and drops those no
  // longer open. Logging out deletes the database (see above).
  var worksetStore = store(WORKSET_DB, "visits");

  function refreshWorkSet(list, user) {
    var url = list.getAttribute("data-workset-url");
    if (!url) return Promise.resolve();
    return worksetStore.all(user).then(function (records) {
      var mark = records.filter(function (r) { return r.kind === "cursor"; })[0];
      var since = mark ? "?since=" + encodeURIComponent(mark.cursor) : "";
      return fetch(url + since, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) return null;
          return response.json();
        })
        .then(function (answer) {
          if (!answer) return null;
          var open = {};
          answer.open_ids.forEach(function (id) { open[id] = true; });
          return worksetStore.tx("readwrite", function (s) {
            records.forEach(function (r) {
              if (r.kind === "visit" && (answer.full || !open[r.task_id])) s.delete(r.key);
            });
            answer.visits.forEach(function (v) {
              s.put({ key: user + ":visit:" + v.task_id, user: user, kind: "visit", task_id: v.task_id,
                      person_name: v.person_name, grid: v.grid, reason: v.reason, due_at: v.due_at });
            });
            s.put({ key: user + ":cursor", user: user, kind: "cursor", cursor: answer.cursor });
          });
        });
    });
  }

  function twoDigits(n) { return (n < 10 ? "0" : "") + n; }
  function localTime(iso) {
    var d = new Date(iso);
    return d.getFullYear() + "-" + twoDigits(d.getMonth() + 1) + "-" + twoDigits(d.getDate()) +
      " " + twoDigits(d.getHours()) + ":" + twoDigits(d.getMinutes());
  }

  // The stored visits not on the kept page, as rows like the page's own (its first row is
  // the pattern: the same one-tap button and folded form, pointed at the other visit).
  function drawStoredVisits(list, user) {
    var pattern = list.querySelector("li.visit");
    if (!pattern) return Promise.resolve();
    return worksetStore.all(user).then(function (records) {
      var now = Date.now();
      records
        .filter(function (r) { return r.kind === "visit" && !document.getElementById("visit-" + r.task_id); })
        .sort(function (a, b) { return a.due_at < b.due_at ? -1 : a.due_at > b.due_at ? 1 : a.task_id - b.task_id; })
        .forEach(function (r) { list.appendChild(visitRow(pattern, r, now)); });
    });
  }

  function visitRow(pattern, r, now) {
    var oldId = pattern.getAttribute("data-task");
    var row = pattern.cloneNode(true);
    row.id = "visit-" + r.task_id;
    row.setAttribute("data-task", String(r.task_id));
    row.classList.remove("is-pending", "has-conflict");
    row.classList.toggle("visit-overdue", new Date(r.due_at).getTime() < now);
    row.querySelectorAll(".field-state, .field-error, .tag, .badge").forEach(function (el) { el.remove(); });
    var head = row.querySelector(".visit-head strong");
    if (head) head.textContent = r.person_name;
    if (new Date(r.due_at).getTime() < now && head) {
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = "已超时";
      head.insertAdjacentElement("afterend", tag);
    }
    var help = row.querySelector("p.help");
    if (help) help.textContent = "走访截止 " + localTime(r.due_at) + (r.grid ? " · " + r.grid : "");
    var reason = help && help.nextElementSibling && help.nextElementSibling.tagName === "P"
      ? help.nextElementSibling : null;
    if (reason) reason.textContent = r.reason;
    var from = "/" + oldId + "/";
    var to = "/" + r.task_id + "/";
    row.querySelectorAll("form[action], a[href]").forEach(function (el) {
      var attr = el.tagName === "FORM" ? "action" : "href";
      el.setAttribute(attr, el.getAttribute(attr).replace(from, to));
    });
    row.querySelectorAll("[id]").forEach(function (el) {
      el.id = el.id.replace("-" + oldId, "-" + r.task_id);
    });
    row.querySelectorAll("label[for]").forEach(function (el) {
      el.setAttribute("for", el.getAttribute("for").replace("-" + oldId, "-" + r.task_id));
    });
    row.querySelectorAll("form").forEach(function (form) { form.reset(); form.hidden = false; });
    row.querySelectorAll("details").forEach(function (el) { el.open = false; el.hidden = false; });
    row.classList.add("field-stored");
    return row;
  }

  ready(function () {
    var round = document.querySelector("[data-field-round]");
    if (round) init(round);
    var visits = document.querySelector("[data-field-visits]");
    if (visits) initVisits(visits);
  });
})();
