/* Fangkong field app (issue 20): registers the service worker on every page, and on the
   doctor's round (<ol data-field-round>) and the grid worker's visits (<ul data-field-visits>)
   keeps each record in an IndexedDB queue until the server has it. Each queued reading has its own idempotency key and the order version it
   was based on; the server answers per record (stored / duplicate / conflict / invalid /
   not_found). A conflict stays on screen with both values until the user decides. */
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
      form.dataset.cleared = "1";
      form.submit();
    });
  }, true);

  var DB_NAME = "fangkong-field";
  var STORE = "queue";

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var store = req.result.createObjectStore(STORE, { keyPath: "key" });
        store.createIndex("user", "user");
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function tx(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }

  // One queue for both screens: a record's kind says which sync endpoint takes it
  // (readings of the round carry no kind: "reading").
  function allOf(user, kind) {
    return tx("readonly", function (s) { return s.index("user").getAll(user); })
      .then(function (records) {
        return records.filter(function (r) { return (r.kind || "reading") === kind; });
      });
  }
  function put(record) { return tx("readwrite", function (s) { s.put(record); }); }
  function drop(key) { return tx("readwrite", function (s) { s.delete(key); }); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) { return ""; }
  }

  // One batch of queued records up to a sync endpoint; the answer per record, or an error
  // whose message the sync bar shows (the records stay queued either way).
  function send(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) {
        throw new Error("登录已失效，请重新登录后同步（记录仍保存在本机）");
      }
      if (!response.ok) throw new Error("服务器暂时无法接收（" + response.status + "），稍后自动重试");
      return response.json();
    });
  }

  function init(list) {
    var user = list.getAttribute("data-user") || "";
    var syncUrl = list.getAttribute("data-sync-url");
    var status = document.getElementById("field-status");
    var button = document.getElementById("field-sync");
    var busy = false;
    var resyncWanted = false;  // a record queued while a sync ran: send it as soon as that one ends

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
        var pending = records.filter(function (r) { return r.state === "pending"; }).length;
        var problems = records.length - pending;
        var text = navigator.onLine ? "在线" : "离线";
        if (pending) text += "：" + pending + " 条待同步";
        else text += "：全部已同步";
        if (problems) text += "，" + problems + " 条需处理";
        say(text);
        if (button) button.disabled = !pending;
        return records;
      });
    }

    function sync() {
      if (busy) { resyncWanted = true; return Promise.resolve(); }
      busy = true;
      resyncWanted = false;
      return allOf(user, "reading")
        .then(function (records) {
          var pending = records.filter(function (r) { return r.state === "pending"; });
          if (!pending.length || !navigator.onLine) return null;
          say("同步中…");
          var body = {
            device: navigator.userAgent.slice(0, 64),
            readings: pending.slice(0, 500).map(function (r) {
              return {
                key: r.key, order_id: r.order_id, version: r.version, taken_at: r.taken_at,
                temperature: r.temperature, normal: r.normal, symptoms: r.symptoms,
                at_home: r.at_home, note: ""
              };
            })
          };
          return send(syncUrl, body).then(function (answer) {
            var landed = {};
            var any = false;
            var byKey = {};
            pending.forEach(function (r) { byKey[r.key] = r; });
            return Promise.all(answer.results.map(function (res) {
              var r = byKey[res.key];
              if (!r) return null;
              if (res.status === "stored" || res.status === "duplicate") {
                landed[r.order_id] = true;
                any = true;
                return drop(r.key).then(function () {
                  paint({ order_id: r.order_id, state: "synced", at_home: r.at_home,
                          temperature: r.temperature, alerts: res.alerts });
                });
              }
              r.state = res.status;
              r.message = res.message || "";
              r.server = res.server || null;
              return put(r).then(function () { paint(r); });
            })).then(function () { if (any) return refreshRows(landed); });
          });
        })
        .catch(function (err) {
          // A network error: the records stay queued and go with the next attempt.
          return refreshStatus().then(function () {
            if (err && err.message && err.message.indexOf("Failed to fetch") < 0) say(err.message);
          });
        })
        .then(function () { busy = false; return refreshStatus(); }, function () { busy = false; })
        .then(function () { if (resyncWanted && navigator.onLine) return sync(); });
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
    var busy = false;
    var again = false;

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
        var pending = records.filter(function (r) { return r.state === "pending"; }).length;
        var problems = records.length - pending;
        var text = navigator.onLine ? "在线" : "离线";
        text += pending ? "：" + pending + " 条走访待同步" : "：全部已同步";
        if (problems) text += "，" + problems + " 条需处理";
        say(text);
        if (button) button.disabled = !pending;
        return records;
      });
    }

    function sync() {
      if (busy) { again = true; return Promise.resolve(); }
      busy = true;
      again = false;
      return allOf(user, "visit")
        .then(function (records) {
          var pending = records.filter(function (r) { return r.state === "pending"; });
          if (!pending.length || !navigator.onLine) return null;
          say("同步中…");
          var body = {
            device: navigator.userAgent.slice(0, 64),
            visits: pending.slice(0, 500).map(function (r) {
              return {
                key: r.key, task_id: r.task_id, taken_at: r.taken_at, present: r.present,
                healthy: r.healthy, temperature: r.temperature, symptoms: r.symptoms,
                phone: r.phone, note: r.note
              };
            })
          };
          return send(syncUrl, body).then(function (answer) {
            var byKey = {};
            pending.forEach(function (r) { byKey[r.key] = r; });
            return Promise.all(answer.results.map(function (res) {
              var r = byKey[res.key];
              if (!r) return null;
              if (res.status === "stored" || res.status === "duplicate") {
                return drop(r.key).then(function () {
                  r.state = "synced";
                  paint(r);
                });
              }
              r.state = res.status;
              r.message = res.message || "";
              return put(r).then(function () { paint(r); });
            }));
          });
        })
        .catch(function (err) {
          return refreshStatus().then(function () {
            if (err && err.message && err.message.indexOf("Failed to fetch") < 0) say(err.message);
          });
        })
        .then(function () { busy = false; return refreshStatus(); }, function () { busy = false; })
        .then(function () { if (again && navigator.onLine) return sync(); });
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

    allOf(user, "visit").then(function (records) {
      records.forEach(paint);
      return refreshStatus();
    }).then(function () {
      if (navigator.onLine) sync();
    });
  }

  function start() {
    if (!window.indexedDB) return;
    var round = document.querySelector("[data-field-round]");
    if (round) init(round);
    var visits = document.querySelector("[data-field-visits]");
    if (visits) initVisits(visits);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
