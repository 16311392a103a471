/* The checkpoint's passage log without a connection (issue 20, issue 14).

   A passage recorded while the phone is offline, or whose POST does not reach the server, is
   kept in IndexedDB (database "fangkong-checkpoints", store "passages"; field.js keeps its own
   "fangkong-field") with its client key and its user, listed on the page as 待同步, and sent
   in batches to POST /api/v1/checkpoints/posts/{id}/passages when the connection returns (the
   online event, the next open, the 立即同步 button, a retry after a failure). The server
   stores each client key once, so a resend never doubles a passage, and one sync runs at a
   time (a Web Lock across tabs).
   Offline, the verdict is worked out here from the rules the page carries
   (#cp-offline-rules: health-code rules and today's risk areas), marked as provisional.
   The queue, the POST and the sync loop (retried with backoff after a failure) are
   fangkong/field.js's (window.FangkongField, loaded in the <head> before this file), with
   this file's ways kept as options: the database closed after each transaction, client keys
   without dashes, the form's CSRF token as a fallback, the Web Lock.
   The roster page loads this file for its print button only. */
(function () {
  "use strict";

  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.matches && ev.target.matches("[data-print]")) window.print();
  });

  var F = window.FangkongField;
  if (!F) return;  // not expected (it is in every page's <head>): the log stays online only

  var OLD_KEY = "fangkong.checkpoints.queue"; // the localStorage queue of earlier versions
  var BATCH = 100;
  var PROVISIONAL = "（离线预判，以同步后为准）";
  var VERDICTS = { pass: "可以通行", restrict: "受限：登记核查", refuse: "禁止通行（劝返）" };
  var SHORT = { pass: "通行", restrict: "受限", refuse: "劝返" };
  var COLOURS = { green: "绿码", yellow: "黄码", red: "红码", none: "无健康码" };
  var FIELDS = {
    name: "姓名", id_number: "身份证号", plate: "车牌号", origin: "来自", temperature: "体温",
    person_id: "人员", outcome: "处置", kind: "类型", direction: "方向", at: "时间",
    occupants: "车上人员", client_key: "记录编号"
  };
  var SEVERITY = { pass: 0, restrict: 1, refuse: 2 };
  var CSRF_INPUT = "#passage-form [name=csrfmiddlewaretoken]";

  var passages = F.store("fangkong-checkpoints", "passages", { close: true });
  var put = passages.put;
  var drop = passages.drop;
  function mine(user) {
    return passages.all(user).then(function (rows) {
      return rows.sort(function (a, b) { return a.item.at < b.item.at ? -1 : a.item.at > b.item.at ? 1 : 0; });
    });
  }
  function newKey() { return F.newKey({ dashes: false }); }

  // --- the provisional verdict (mirror of checkpoints/rules.py, without pass cards) --------

  function offlineRules() {
    var el = document.getElementById("cp-offline-rules");
    try { return JSON.parse(el ? el.textContent : "{}"); } catch (e) { return {}; }
  }

  function riskArea(origin, areas) {
    var text = String(origin || "").trim();
    if (text.length < 2) return "";
    for (var i = 0; i < areas.length; i++) {
      var code = areas[i][0], place = areas[i][1];
      if (code && /^\d+$/.test(text) && text.indexOf(code) === 0) return place;
      if (place && place.length >= 2 && (text.indexOf(place) >= 0 || place.indexOf(text) >= 0)) return place;
    }
    return "";
  }

  function judge(rules, item) {
    var table = { green: "pass", yellow: "restrict", red: "refuse", none: "refuse" };
    Object.keys(rules.code_rules || {}).forEach(function (k) { table[k] = rules.code_rules[k]; });
    var colour = table[item.code_colour] ? item.code_colour : "none";
    var verdict = table[colour];
    var reasons = [];
    function worse(v) { if (SEVERITY[v] > SEVERITY[verdict]) verdict = v; }
    if (verdict !== "pass") reasons.push(COLOURS[colour] + "：" + (verdict === "refuse" ? "禁止通行" : "受限通行"));
    var t = item.temperature == null ? null : parseFloat(item.temperature);
    if (t != null && t >= parseFloat(rules.fever || "37.3")) {
      worse("restrict");
      reasons.push("体温 " + t.toFixed(1) + "℃ ≥ " + (rules.fever || "37.3") + "℃");
    }
    if (!item.itinerary_ok) { worse("restrict"); reasons.push("行程卡未核验"); }
    var area = riskArea(item.origin, rules.risk_areas || []);
    if (area) { worse("restrict"); reasons.push("来自风险地区：" + area); }
    if (!item.mask) reasons.push("未戴口罩：现场发放并佩戴");
    return { verdict: verdict, reasons: reasons };
  }

  function today() {
    var d = new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  function showVerdict(form) {
    var box = document.getElementById("verdict");
    if (!box || !form) return;
    var rules = offlineRules();
    var seen = judge(rules, itemOf(form, "").item);
    var div = document.createElement("div");
    div.className = "cp-verdict cp-verdict-" + seen.verdict;
    div.setAttribute("data-testid", "verdict");
    var strong = document.createElement("strong");
    strong.textContent = VERDICTS[seen.verdict];
    var note = document.createElement("span");
    note.className = "cp-provisional";
    note.textContent = PROVISIONAL;
    div.append(strong, " ", note);
    seen.reasons.forEach(function (r) {
      var line = document.createElement("div");
      line.textContent = r;
      div.appendChild(line);
    });
    if (rules.day && rules.day !== today()) {
      var stale = document.createElement("div");
      stale.className = "cp-provisional";
      stale.textContent = "风险地区名单为 " + rules.day + " 的版本，联网后更新";
      div.appendChild(stale);
    }
    box.replaceChildren(div);
  }

  // --- a passage from the form ----------------------------------------------------------------

  function itemOf(form, key) {
    var f = new FormData(form);
    var get = function (name) { return String(f.get(name) || "").trim(); };
    var kind = get("kind") || "person";
    var temp = get("temperature").replace(",", ".");
    var t = temp === "" ? null : parseFloat(temp);
    var name = get("name");
    var search = get("person__search");
    var personId = parseInt(get("person"), 10) || null;
    // Offline the roster search cannot answer: a name typed there is taken as the name.
    if (!personId && !name && search && !/^\d/.test(search)) name = search.slice(0, 64);
    var item = {
      kind: kind, direction: get("direction") || "in", person_id: kind === "person" ? personId : null,
      name: kind === "person" ? name : "", id_number: kind === "person" ? get("id_number").toUpperCase() : "",
      plate: kind === "vehicle" ? get("plate") : "", origin: get("origin"),
      temperature: t == null || isNaN(t) ? null : t.toFixed(1),
      code_colour: get("code_colour") || "green", itinerary_ok: !!f.get("itinerary_ok"),
      mask: !!f.get("mask"), disinfected: !!f.get("disinfected"), outcome: get("outcome"),
      at: new Date().toISOString(), client_key: key, occupants: []
    };
    var errors = [];
    if (kind === "vehicle") {
      // Each line one person, keyed as the server's form keys them (line number, blanks counted).
      String(f.get("occupants") || "").split(/\r\n|\r|\n/).forEach(function (line, i) {
        var text = line.trim();
        if (!text) return;
        var id = /^\d{17}[\dXx]$/.test(text);
        item.occupants.push({
          name: id ? "未登记人员" : text.slice(0, 64), id_number: id ? text.toUpperCase() : "",
          temperature: item.temperature, code_colour: item.code_colour,
          itinerary_ok: item.itinerary_ok, mask: item.mask, client_key: key + "-" + i
        });
      });
      if (!item.plate) errors.push("请填写车牌号");
      if (item.occupants.length > 60) errors.push("车上人员每车最多 60 人");
    } else if (!item.person_id && !item.name) {
      errors.push("请填写姓名（离线时无法查询名册）");
    }
    if (temp !== "" && (isNaN(t) || t < 30 || t > 45)) errors.push("体温应在 30 到 45℃ 之间");
    if (item.id_number && !/^\d{17}[\dX]$/.test(item.id_number)) errors.push("身份证号格式不正确");
    var label = kind === "vehicle"
      ? "🚗 " + item.plate + "（" + item.occupants.length + " 人）"
      : item.name || search || "已选人员";
    return { item: item, errors: errors, label: label };
  }

  function start(list) {
    var user = list.getAttribute("data-user") || "";
    var postId = list.getAttribute("data-post");
    var postName = list.getAttribute("data-post-name") || "";
    var box = document.getElementById("cp-queue-box");
    var status = document.getElementById("field-status");
    var button = document.getElementById("field-sync");
    var synced = []; // shown as 已同步 until the page is left
    var landed = false; // some passage reached the server in this sync

    function form() { return document.getElementById("passage-form"); }
    function say(text) { if (status) status.textContent = text; }

    function freshKey() {
      var input = form() && form().querySelector("[name=client_key]");
      if (input) input.value = newKey();
    }

    function when(iso) {
      var d = new Date(iso);
      return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
    }

    function row(r, state) {
      var li = document.createElement("li");
      li.id = "cp-q-" + r.key;
      li.className = state === "synced" ? "is-synced" : state === "invalid" ? "is-invalid" : "is-pending";
      var who = document.createElement("strong");
      who.textContent = r.label;
      var time = document.createElement("span");
      time.textContent = when(r.item.at) + (String(r.post) !== postId ? " · " + (r.post_name || "其他卡点") : "");
      var code = document.createElement("span");
      code.className = "cp-code-" + r.item.code_colour;
      code.textContent = COLOURS[r.item.code_colour] || r.item.code_colour;
      li.append(who, time, code);
      if (r.verdict) {
        var v = document.createElement("span");
        v.textContent = SHORT[r.verdict] + (state === "synced" ? "" : "（离线预判）");
        li.appendChild(v);
      }
      var badge = document.createElement("span");
      li.appendChild(badge);
      if (state === "pending") {
        badge.className = "field-pending";
        badge.textContent = "待同步";
      } else if (state === "synced") {
        badge.className = "field-synced";
        badge.textContent = "✓ 已同步";
      } else {
        badge.className = "field-conflict";
        badge.setAttribute("role", "alert");
        badge.textContent = "未保存：" + (r.message || "服务器拒收");
        var del = document.createElement("button");
        del.type = "button";
        del.className = "button button-quiet";
        del.textContent = "删除此记录";
        del.addEventListener("click", function () { drop(r.key).then(refresh); });
        li.appendChild(del);
      }
      return li;
    }

    function refresh() {
      return mine(user).then(function (records) {
        var items = records.map(function (r) { return row(r, r.state); })
          .concat(synced.map(function (r) { return row(r, "synced"); }));
        list.replaceChildren.apply(list, items);
        if (box) box.hidden = items.length === 0;
        var now = F.summary(records);
        say(now.text);
        if (button) button.disabled = !now.pending;
        // The note under the button speaks of the last record queued while it is queued.
        var note = document.getElementById("cp-queued");
        if (note && !records.some(function (r) { return r.key === note.getAttribute("data-key"); })) note.remove();
        return records;
      });
    }

    function queue(theForm) {
      var key = (theForm.querySelector("[name=client_key]") || {}).value || newKey();
      var made = itemOf(theForm, key);
      var old = theForm.querySelector(".cp-offline-error");
      if (old) old.remove();
      if (made.errors.length) {
        var error = document.createElement("p");
        error.className = "error cp-offline-error";
        error.setAttribute("role", "alert");
        error.textContent = made.errors.join("；");
        theForm.querySelector(".cp-record").before(error);
        return Promise.resolve();
      }
      var r = {
        key: key, user: user, url: theForm.getAttribute("data-queue-url"), post: postId,
        post_name: postName, label: made.label, item: made.item, state: "pending", message: "",
        verdict: judge(offlineRules(), made.item).verdict
      };
      return put(r).then(function () {
        resetForm(theForm, made.item);
        var note = document.getElementById("cp-queued") || document.createElement("p");
        note.id = "cp-queued";
        note.className = "notice";
        note.setAttribute("role", "status");
        note.setAttribute("data-testid", "queued");
        note.setAttribute("data-key", r.key);
        note.textContent = "已暂存本机：" + r.label + " · " + SHORT[r.verdict] + "（离线预判）· 待同步";
        theForm.querySelector(".cp-record").after(note);
        return refresh();
      }).then(function () { if (navigator.onLine) sync(); });
    }

    // The next person: the form as the server gives it after a record (direction kept, and
    // where from after a vehicle), with a new client key.
    function resetForm(theForm, last) {
      theForm.reset();
      theForm.querySelectorAll("[data-picker-value]").forEach(function (el) { el.value = ""; });
      var dir = theForm.querySelector("[name=direction][value='" + last.direction + "']");
      if (dir) dir.checked = true;
      if (last.kind === "vehicle" && theForm.elements.origin) theForm.elements.origin.value = last.origin;
      freshKey();
      theForm.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function refuse(r, message) {
      r.state = "invalid";
      r.message = message;
      return put(r);
    }

    // One batch of one post's passages; resolves true when some records moved on (sent or
    // refused), throws when the batch must wait (login, server, network).
    function sendBatch(url, batch) {
      var items = batch.map(function (r) { return r.item; });
      return F.post(url, { items: items }, { csrf: CSRF_INPUT }).then(function (response) {
        if (response.ok) {
          return response.json().then(function (answer) {
            var stored = {};
            answer.items.forEach(function (i) { stored[i.client_key] = i; });
            var done = batch.filter(function (r) { return stored[r.key]; });
            return Promise.all(done.map(function (r) {
              return drop(r.key).then(function () {
                r.verdict = stored[r.key].verdict;
                synced.push(r);
                landed = true;
              });
            })).then(function () { return done.length > 0; });
          });
        }
        if (response.status === 400 || response.status === 404 || response.status === 422) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            var byIndex = {};
            (body.errors || []).forEach(function (e) {
              var m = /^items\.(\d+)\.(?:occupants\.(\d+)\.)?(\w+)/.exec(e.field || "");
              if (!m || !batch[m[1]]) return;
              var where = m[2] != null ? "车上第 " + (Number(m[2]) + 1) + " 人" : "";
              (byIndex[m[1]] = byIndex[m[1]] || []).push(where + (FIELDS[m[3]] || m[3]) + "：" + e.message);
            });
            var hit = Object.keys(byIndex);
            if (hit.length) {
              return Promise.all(hit.map(function (i) { return refuse(batch[i], byIndex[i].join("；")); }))
                .then(function () { return true; });
            }
            if (batch.length === 1) {
              var why = (body.errors || []).map(function (e) { return e.message; }).join("；");
              return refuse(batch[0], why || body.detail || "服务器拒收（" + response.status + "）")
                .then(function () { return true; });
            }
            // Not tied to one record: send them one by one to find the one refused.
            return batch.reduce(function (chain, r) {
              return chain.then(function () { return sendBatch(url, [r]); });
            }, Promise.resolve()).then(function () { return true; });
          });
        }
        throw F.failure(response.status);  // an expired login, or the server cannot take it now
      });
    }

    function flush() {
      if (!navigator.onLine) return Promise.resolve(false);
      return mine(user).then(function (records) {
        var pending = records.filter(function (r) { return r.state === "pending"; });
        if (!pending.length) return false;
        say("同步中…");
        var url = pending[0].url;
        var batch = pending.filter(function (r) { return r.url === url; }).slice(0, BATCH);
        return sendBatch(url, batch).then(function (moved) {
          return moved ? flush().then(function () { return true; }) : false;
        });
      });
    }

    // One sync across tabs (the Web Lock); the rows refreshed from the server when some
    // passage reached it.
    var sync = F.syncLoop({
      attempt: function () { landed = false; return flush(); },
      settle: function () { return refresh().then(function () { if (landed) return refreshRows(); }); },
      say: say,
      quiet: /fetch|network/i,
      lock: "fangkong-checkpoints-sync"
    });

    // After a sync, today's counts and the recent rows as the server now has them (the form,
    // perhaps half filled in, stays).
    function refreshRows() {
      return fetch(window.location.pathname, { credentials: "same-origin" })
        .then(function (response) { return response.ok && !response.redirected ? response.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          [".cp-counts", ".cp-table-wrap"].forEach(function (sel) {
            var fresh = doc.querySelector("#log-panel " + sel);
            var here = document.querySelector("#log-panel " + sel);
            if (fresh && here) here.replaceWith(document.importNode(fresh, true));
          });
          var headers = doc.body && doc.body.getAttribute("hx-headers");
          if (headers) document.body.setAttribute("hx-headers", headers);
        })
        .catch(function () {});
    }

    // The queue of earlier versions (localStorage, one POST per passage) moves into this one.
    function migrate() {
      var old;
      try { old = JSON.parse(localStorage.getItem(OLD_KEY) || "[]"); } catch (e) { old = []; }
      if (!old.length) return Promise.resolve();
      return Promise.all(old.map(function (q) {
        var item = q && q.body && q.body.items && q.body.items[0];
        if (!item || !item.client_key || !q.url) return null;
        (item.occupants || []).forEach(function (o) { if (!o.name) o.name = "未登记人员"; });
        var label = item.kind === "vehicle"
          ? "🚗 " + item.plate + "（" + (item.occupants || []).length + " 人）" : item.name;
        var match = /\/posts\/(\d+)\//.exec(q.url);
        return put({
          key: item.client_key, user: user, url: q.url, post: match ? match[1] : "", post_name: "",
          label: label, item: item, state: "pending", message: "", verdict: judge(offlineRules(), item).verdict
        });
      })).then(function () { localStorage.removeItem(OLD_KEY); });
    }

    // Offline (or when the server cannot be reached) a submit goes to the queue, before htmx.
    document.addEventListener("submit", function (event) {
      var theForm = event.target;
      if (!theForm || theForm.id !== "passage-form" || navigator.onLine) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      queue(theForm);
    }, true);
    document.addEventListener("htmx:sendError", function (event) {
      var elt = event.detail && event.detail.elt;
      if (elt && elt.id === "passage-form") queue(elt);
      else if (elt && elt.id === "verdict") showVerdict(form());
    });
    document.addEventListener("htmx:responseError", function (event) {
      var elt = event.detail && event.detail.elt;
      var xhr = event.detail && event.detail.xhr;
      if (elt && elt.id === "passage-form" && xhr && xhr.status >= 500) queue(elt);
    });
    // Offline the verdict is worked out on the phone instead of asked of the server.
    document.addEventListener("htmx:beforeRequest", function (event) {
      var elt = event.detail && event.detail.elt;
      if (navigator.onLine || !elt || elt.id !== "verdict") return;
      event.preventDefault();
      showVerdict(form());
    });
    document.addEventListener("input", function (event) {
      if (!navigator.onLine && event.target.closest && event.target.closest("#passage-form")) showVerdict(form());
    });
    document.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail && event.detail.target && event.detail.target.id === "log-panel") refresh();
    });

    if (button) button.addEventListener("click", function () {
      if (navigator.onLine) sync();
      else say("当前离线，联网后自动同步");
    });
    window.addEventListener("online", function () { sync(); });
    window.addEventListener("offline", function () { refresh(); showVerdict(form()); });
    // A phone can regain the network without an online event: try again now and then.
    setInterval(function () { if (navigator.onLine && button && !button.disabled) sync(); }, 60000);

    // The page may come from the service worker's copy: never reuse the client key it holds.
    freshKey();
    migrate().catch(function () {}).then(refresh).then(function () {
      if (navigator.onLine) sync();
    });
  }

  F.ready(function () {
    var list = document.getElementById("cp-queue");
    if (list) start(list);
  });
})();
