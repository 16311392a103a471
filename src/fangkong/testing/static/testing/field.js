/* The sampler's scan screen offline (issue 20). Online, a scan goes to the server through
   htmx as before: the server answers at once (the person's name, the tube's count, or why
   not). With no signal, or when the request cannot reach the server, the scan is kept in
   IndexedDB ("fangkong-testing"), each with its own idempotency key, listed "待同步" under
   the form, and sent to the sync endpoint when the signal returns, on the next open, or
   with the button. The server answers per record (stored / duplicate / conflict / invalid /
   not_found); a refused record stays on screen, with the server's values beside the
   phone's, until the sampler drops it. The tube's count offline is the last count the
   server gave plus the samples queued here, so a full tube is still refused at the lane.
   The queue, the POST and the sync loop (retried with backoff) are fangkong/field.js's
   (window.FangkongField, loaded in the <head> before this file); the database and store
   names stay this screen's own. */
(function () {
  "use strict";

  var F = window.FangkongField;
  if (!F) return;  // not expected (it is in every page's <head>): the screen stays online only

  var MAX_SYNC = 500;
  var samples = F.store("fangkong-testing", "samples");
  var put = samples.put;
  var drop = samples.drop;
  var newKey = F.newKey;

  function allOf(user) {
    return samples.all(user).then(function (records) {
      return records.sort(function (a, b) { return a.taken_at < b.taken_at ? -1 : 1; });
    });
  }

  // An ID number is shown masked on screen (the phone keeps what was scanned, to send it).
  function shown(code) {
    code = String(code || "");
    if (code.length >= 15) return code.slice(0, 4) + "**********" + code.slice(-4);
    return code;
  }

  function init(list) {
    var user = list.getAttribute("data-user") || "";
    var syncUrl = list.getAttribute("data-sync-url");
    var campaignId = parseInt(list.getAttribute("data-campaign"), 10);
    var campaignName = list.getAttribute("data-campaign-name") || "";
    var status = document.getElementById("t-field-status");
    var button = document.getElementById("t-field-sync");
    var memoryKey = "fangkong-testing:" + user + ":" + campaignId;

    function say(text) { if (status) status.textContent = text; }
    function panel() { return document.getElementById("scan-panel"); }
    function rowOf(key) { return document.getElementById("t-q-" + key); }

    // The tubes' counts the server last gave on this phone (a cached page may be older).
    function memory() {
      try { return JSON.parse(localStorage.getItem(memoryKey) || "{}"); } catch (e) { return {}; }
    }
    function remember(change) {
      var m = memory();
      m.tubes = m.tubes || {};
      if ("last" in change) m.last = change.last;
      if (change.tube) {
        if (change.count != null) {
          var had = m.tubes[change.tube];
          m.tubes[change.tube] = { count: Math.max(change.count, had ? had.count : 0), capacity: change.capacity };
        }
      }
      var names = Object.keys(m.tubes);
      if (names.length > 20) delete m.tubes[names[0]];
      try { localStorage.setItem(memoryKey, JSON.stringify(m)); } catch (e) { /* full: counts from the page */ }
    }

    function serverTube(barcode) {
      var box = panel() && panel().querySelector(".t-tube[data-tube]");
      var known = (memory().tubes || {})[barcode] || null;
      if (box && box.getAttribute("data-tube") === barcode && box.getAttribute("data-server") !== "0") {
        var page = { count: parseInt(box.getAttribute("data-count"), 10) || 0,
                     capacity: parseInt(box.getAttribute("data-capacity"), 10) };
        if (!known || page.count >= known.count) return page;
      }
      return known;
    }

    function queuedIn(records, barcode) {
      return records.filter(function (r) {
        return r.state === "pending" && r.campaign_id === campaignId && r.tube === barcode;
      }).length;
    }

    // The tube box: the server's count plus this phone's queue, "full" as the server would say.
    function paintTube(barcode, capacity, records) {
      var p = panel();
      if (!p || !barcode) return null;
      var known = serverTube(barcode);
      var queued = queuedIn(records, barcode);
      var cap = known ? known.capacity : capacity;
      var count = (known ? known.count : 0) + queued;
      var box = p.querySelector(".t-tube");
      if (!box) {
        box = document.createElement("div");
        p.insertBefore(box, p.querySelector("form"));
      }
      if (box.getAttribute("data-tube") !== barcode || box.getAttribute("data-server") === "0") {
        box.setAttribute("data-tube", barcode);
        box.setAttribute("data-count", known ? known.count : 0);
        box.setAttribute("data-capacity", cap);
        box.setAttribute("data-server", known ? "1" : "0");
      }
      box.className = "t-tube" + (count >= cap ? " t-tube-full" : "");
      box.textContent = "";
      var code = document.createElement("span");
      code.className = "t-tube-code";
      code.textContent = barcode;
      var counter = document.createElement("span");
      counter.className = "t-tube-count";
      counter.setAttribute("data-testid", "tube-count");
      counter.textContent = "管内 " + count + " / " + cap + (queued ? "（含待同步 " + queued + "）" : "");
      box.appendChild(code);
      box.appendChild(counter);
      if (count >= cap) {
        var full = document.createElement("strong");
        full.textContent = "试管已满：请封管并扫描新试管。";
        box.appendChild(full);
      }
      return { count: count, capacity: cap };
    }

    function describe(r) {
      return (r.name || shown(r.person)) + " → 试管 " + r.tube + (r.retest ? "（复检）" : "") +
        (r.campaign_id !== campaignId ? "（" + r.campaign_name + "）" : "");
    }

    function paint(r) {
      var li = rowOf(r.key);
      if (!li) {
        li = document.createElement("li");
        li.id = "t-q-" + r.key;
        list.insertBefore(li, list.firstChild);
      }
      li.className = "t-queued";
      li.textContent = "";
      var what = document.createElement("span");
      what.className = "t-queued-what";
      what.textContent = describe(r);
      li.appendChild(what);
      var badge = document.createElement("span");
      li.appendChild(badge);
      if (r.state === "pending") {
        li.classList.add("is-pending");
        badge.className = "field-pending";
        badge.textContent = "待同步";
        return;
      }
      if (r.state === "synced") {
        li.classList.add("is-done");
        badge.className = "field-synced";
        badge.textContent = "✓ 已同步";
        return;
      }
      li.classList.add("has-conflict");
      badge.className = "field-conflict";
      badge.setAttribute("role", "alert");
      badge.textContent = (r.state === "conflict" ? "冲突：" : "未保存：") + (r.message || "");
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "button button-quiet";
      discard.textContent = "放弃此记录";
      discard.addEventListener("click", function () {
        drop(r.key).then(function () {
          li.remove();
          return refreshStatus();
        });
      });
      li.appendChild(discard);
    }

    function refreshStatus() {
      return allOf(user).then(function (records) {
        var now = F.summary(records, "采样");
        say(now.text);
        if (button) button.disabled = !now.pending;
        return records;
      });
    }

    function note(form, text, error) {
      var p = panel();
      p.querySelectorAll(".t-recorded, .field-error").forEach(function (el) { el.remove(); });
      var line = document.createElement("p");
      line.className = error ? "error field-error" : "notice notice-success t-recorded";
      line.setAttribute("role", error ? "alert" : "status");
      line.textContent = text;
      p.insertBefore(line, p.firstChild);
    }

    function recordOf(form) {
      var data = new FormData(form);
      return {
        key: newKey(), user: user, campaign_id: campaignId, campaign_name: campaignName,
        tube: String(data.get("tube") || "").trim().toUpperCase(),
        capacity: parseInt(data.get("capacity"), 10) || 10,
        person: String(data.get("person") || "").trim().toUpperCase(),
        retest: !!data.get("retest"),
        taken_at: new Date().toISOString(), state: "pending"
      };
    }

    // A scan into the queue: the phone's checks (barcode, code, tube not full, person not
    // queued twice), then kept; the server has the last word when it is sent.
    function queue(form) {
      var r = recordOf(form);
      if (!/^[A-Z0-9-]{1,32}$/.test(r.tube)) { note(form, "请扫描试管条码", true); return Promise.resolve(); }
      if (!r.person || r.person.length > 32) { note(form, "请扫描身份证或登记码", true); return Promise.resolve(); }
      return allOf(user).then(function (records) {
        var known = serverTube(r.tube);
        var cap = known ? known.capacity : r.capacity;
        var count = (known ? known.count : 0) + queuedIn(records, r.tube);
        if (count >= cap) {
          note(form, "试管 " + r.tube + " 已满（" + count + " / " + cap + "）：请封管并扫描新试管", true);
          return null;
        }
        var twice = records.some(function (q) {
          return q.state === "pending" && q.campaign_id === campaignId && q.person === r.person && !q.retest && !r.retest;
        });
        if (twice) {
          note(form, "此人已在本机待同步记录中，请勿重复采样", true);
          return null;
        }
        return put(r).then(function () {
          records.push(r);
          paint(r);
          remember({ last: { tube: r.tube, capacity: cap } });
          var now = paintTube(r.tube, cap, records);
          note(form, "已暂存（待同步）：" + shown(r.person) + " → 试管 " + r.tube, false);
          var person = form.querySelector("[name=person]");
          var tube = form.querySelector("[name=tube]");
          var retest = form.querySelector("[name=retest]");
          if (person) person.value = "";
          if (retest) retest.checked = false;
          if (now && now.count >= now.capacity && tube) {
            tube.value = "";
            tube.focus();
          } else if (person) {
            person.focus();
          }
          return refreshStatus();
        });
      });
    }

    var sync = F.syncLoop({ attempt: attempt, settle: refreshStatus, say: say });

    function attempt(more) {
      return allOf(user).then(function (records) {
        return F.sendPending({
          records: records, queue: samples, url: syncUrl, field: "samples", max: MAX_SYNC,
          more: more, say: say,
          item: function (r) {
            return { key: r.key, campaign_id: r.campaign_id, person: r.person, tube: r.tube,
                     capacity: r.capacity, retest: r.retest, taken_at: r.taken_at };
          },
          landed: function (r, res) {
            r.state = "synced";
            r.name = res.person_name || "";
            if (res.tube_count != null && r.campaign_id === campaignId) {
              remember({ tube: res.tube, capacity: res.tube_capacity, count: res.tube_count });
            }
            paint(r);
          },
          refused: paint
        }).then(function (sent) { if (sent) return repaintTube(); });
      });
    }

    // The tube now in the form, counted again (after a sync, or a page from the cache).
    function repaintTube() {
      var p = panel();
      var input = p && p.querySelector("form [name=tube]");
      var barcode = input ? String(input.value || "").trim().toUpperCase() : "";
      if (!barcode) return null;
      return allOf(user).then(function (records) {
        var select = p.querySelector("form [name=capacity]");
        var known = serverTube(barcode);
        if (known || queuedIn(records, barcode)) {
          paintTube(barcode, known ? known.capacity : parseInt(select && select.value, 10) || 10, records);
        }
      });
    }

    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.closest || !form.closest("#scan-panel")) return;
      if (navigator.onLine) return;  // htmx sends it; the server answers at once
      event.preventDefault();
      event.stopImmediatePropagation();
      queue(form);
    }, true);

    // "Online" but the request never reached the server: the scan is queued all the same
    // (if it did arrive, the sync answers "duplicate": the person is already in this tube).
    document.body.addEventListener("htmx:sendError", function (event) {
      var elt = event.detail && event.detail.elt;
      var form = elt && elt.closest ? elt.closest("#scan-panel form") : null;
      if (form) queue(form);
    });

    // A scan the server recorded: remember the tube's count for offline use.
    document.body.addEventListener("htmx:afterSwap", function () {
      var box = panel() && panel().querySelector(".t-tube[data-tube]");
      if (box) {
        remember({ tube: box.getAttribute("data-tube"),
                   capacity: parseInt(box.getAttribute("data-capacity"), 10),
                   count: parseInt(box.getAttribute("data-count"), 10) || 0 });
      }
      var input = panel() && panel().querySelector("form [name=tube]");
      var select = panel() && panel().querySelector("form [name=capacity]");
      remember({ last: input && input.value
        ? { tube: input.value.trim().toUpperCase(), capacity: parseInt(select && select.value, 10) || 10 }
        : null });
      repaintTube();
    });

    if (button) button.addEventListener("click", function () { sync(); });
    window.addEventListener("online", function () { sync(); });
    window.addEventListener("offline", function () { refreshStatus(); });

    // A page from the cache (offline) may show an older tube: the last one used here wins.
    var last = memory().last;
    var tubeInput = panel() && panel().querySelector("form [name=tube]");
    if (!navigator.onLine && last && tubeInput) {
      tubeInput.value = last.tube;
      var capacity = panel().querySelector("form [name=capacity]");
      if (capacity && last.capacity) capacity.value = String(last.capacity);
    }
    var initial = panel() && panel().querySelector(".t-tube[data-tube]");
    if (initial) {
      remember({ tube: initial.getAttribute("data-tube"),
                 capacity: parseInt(initial.getAttribute("data-capacity"), 10),
                 count: parseInt(initial.getAttribute("data-count"), 10) || 0 });
    }

    allOf(user).then(function (records) {
      records.forEach(paint);
      return repaintTube();
    }).then(refreshStatus).then(function () {
      if (navigator.onLine) sync();
    });
  }

  F.ready(function () {
    var list = document.querySelector("[data-field-samples]");
    if (list) init(list);
  });
})();
