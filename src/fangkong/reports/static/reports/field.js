/* The daily form's zero report offline (issue 20). Pressing "今日无新情况，报零报告" keeps the
   report in IndexedDB ("fangkong-reports") under the key unit + day, so that it can never
   be filed twice, shows it "待同步", and sends it to the sync endpoint at once when online,
   else when the signal returns, on the next open, or with the button. When the server
   refuses it (the day is not quiet: "今日有情况，不能报零报告：…") the reason stays on the
   record until the reporter dismisses it. The full report ("确认报送") needs the signal.
   The queue, the POST and the sync loop (retried with backoff) are fangkong/field.js's
   (window.FangkongField, loaded in the <head> before this file); the database and store
   names stay this screen's own. */
(function () {
  "use strict";

  var F = window.FangkongField;
  if (!F) return;  // not expected (it is in every page's <head>): the screen stays online only

  var MAX_SYNC = 31;
  var EXPIRED = "登录已失效，请重新登录后同步（报告仍保存在本机）";
  var queue = F.store("fangkong-reports", "zero");
  var allOf = queue.all;
  var put = queue.put;
  var drop = queue.drop;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localDay(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function dayLabel(day) { return day.slice(5, 7) + "月" + day.slice(8, 10) + "日"; }
  function clock(iso) { var d = new Date(iso); return pad(d.getHours()) + ":" + pad(d.getMinutes()); }

  function init(form) {
    var user = form.getAttribute("data-user") || "";
    var syncUrl = form.getAttribute("data-sync-url");
    var code = form.getAttribute("data-code");
    var name = form.getAttribute("data-name") || code;
    var pageDay = form.getAttribute("data-day");
    var isToday = form.hasAttribute("data-today");
    var status = document.getElementById("r-field-status");
    var button = document.getElementById("r-field-sync");
    var done = {};  // key -> the server's report, for the records synced while this page is open

    function say(text) { if (status) status.textContent = text; }

    // The day a press files: the page's day, or today when the page kept offline is older.
    function dayToFile() {
      var today = localDay(new Date());
      return isToday && today > pageDay ? today : pageDay;
    }

    function what(r) {
      return dayLabel(r.day) + (r.code !== code ? "（" + (r.name || r.code) + "）" : "") + "零报告";
    }

    function line(text, className) {
      var box = document.createElement("div");
      box.className = "field-state";
      var badge = document.createElement("span");
      badge.className = className;
      badge.textContent = text;
      box.appendChild(badge);
      return box;
    }

    function paint() {
      var box = document.getElementById("zero-state");
      if (!box) return Promise.resolve();
      return allOf(user).then(function (records) {
        box.textContent = "";
        Object.keys(done).forEach(function (key) {
          var r = done[key];
          box.appendChild(line("✓ 日报已报送（" + what(r) + "）", "field-synced"));
        });
        records.forEach(function (r) {
          if (r.state === "pending") {
            box.appendChild(line(what(r) + " · 待同步", "field-pending"));
            return;
          }
          var row = line((r.state === "conflict" ? "冲突：" : "未报送：") + what(r) + "。" + (r.message || ""), "field-conflict");
          row.firstChild.setAttribute("role", "alert");
          var dismiss = document.createElement("button");
          dismiss.type = "button";
          dismiss.className = "button button-quiet";
          dismiss.textContent = "知道了，移除此记录";
          dismiss.addEventListener("click", function () {
            drop(r.key).then(paint).then(refreshStatus);
          });
          row.appendChild(dismiss);
          box.appendChild(row);
        });
        var zero = document.getElementById("zero-report");
        var key = "zero-" + code + "-" + dayToFile();
        if (zero) {
          zero.hidden = records.some(function (r) { return r.key === key && r.state === "pending"; }) || !!done[key];
        }
      });
    }

    function refreshStatus() {
      return allOf(user).then(function (records) {
        var now = F.summary(records);
        var pending = now.pending;
        var problems = now.problems;
        var text = navigator.onLine ? "在线" : "离线";
        if (pending) text += "：" + pending + " 份零报告待同步";
        else if (problems) text += "：没有待同步的报告";
        else text += navigator.onLine ? "：没有待同步的报告" : "：可报零报告，联网后自动报送";
        if (problems) text += "，" + problems + " 份未报送，请查看";
        say(text);
        if (button) button.disabled = !pending;
      });
    }

    // The page's own line "已于 … 报送" and version, from the report the server filed.
    function showFiled(r, server) {
      if (r.code !== code || r.day !== pageDay || !server) return;
      var state = document.getElementById("daily-state");
      if (state) {
        state.textContent = "已于 " + clock(server.submitted_at) + " 由 " + server.reporter + " 报送（" +
          server.status_label + "）" + (server.late ? "，超过时限" : "") + "。";
      }
      var version = form.querySelector("input[name=version]");
      if (version) version.value = String(server.version);
    }

    var sync = F.syncLoop({
      attempt: attempt,
      settle: function () { return paint().then(refreshStatus); },
      say: say
    });

    function attempt(more) {
      return allOf(user).then(function (records) {
        return F.sendPending({
          records: records, queue: queue, url: syncUrl, field: "reports", max: MAX_SYNC,
          more: more, say: say, expired: EXPIRED,
          item: function (r) {
            return { key: r.key, region_code: r.code, day: r.day, taken_at: r.taken_at,
                     corrections: r.corrections, situation: r.situation, problems: r.problems,
                     requests: r.requests, version: r.version };
          },
          landed: function (r, res) {
            done[r.key] = r;
            showFiled(r, res.server);
          }
        });
      });
    }

    function zeroOf(current) {
      var data = new FormData(current);
      var day = dayToFile();
      var corrections = [];
      var bad = null;
      current.querySelectorAll("input[name^='value_']").forEach(function (input) {
        var raw = String(input.value || "").trim().replace(/,/g, "");
        if (!raw) return;
        var key = input.name.slice(6);
        if (!/^\d{1,9}$/.test(raw)) { bad = "更正数须填整数"; return; }
        var reason = current.querySelector("input[name='reason_" + key + "']");
        corrections.push({ key: key, value: parseInt(raw, 10), reason: reason ? reason.value.slice(0, 2000) : "" });
      });
      if (bad) return { error: bad };
      var version = parseInt(data.get("version"), 10) || null;
      return {
        key: "zero-" + code + "-" + day, user: user, code: code, name: name, day: day,
        taken_at: new Date().toISOString(), corrections: corrections,
        situation: String(data.get("situation") || "").slice(0, 2000),
        problems: String(data.get("problems") || "").slice(0, 2000),
        requests: String(data.get("requests") || "").slice(0, 2000),
        // A page kept from an earlier day read that day's report, not today's.
        version: day === pageDay ? version : null,
        state: "pending"
      };
    }

    // Before the browser posts the form: the zero report goes through the queue (online it is
    // sent at once); the full report is posted as before, which needs the signal.
    document.addEventListener("submit", function (event) {
      var current = event.target;
      if (current !== form) return;
      var submitter = event.submitter;
      if (!submitter || submitter.id !== "zero-report") {
        if (!navigator.onLine) {
          event.preventDefault();
          event.stopImmediatePropagation();
          say("当前离线：完整日报须联网后报送；离线时可报零报告");
        }
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      var r = zeroOf(current);
      if (r.error) { say(r.error); return; }
      delete done[r.key];
      put(r).then(paint).then(refreshStatus).then(function () {
        if (navigator.onLine) return sync();
      });
    }, true);

    if (button) button.addEventListener("click", function () { sync(); });
    window.addEventListener("online", function () { sync(); });
    window.addEventListener("offline", function () { refreshStatus(); });

    paint().then(refreshStatus).then(function () {
      if (navigator.onLine) sync();
    });
  }

  F.ready(function () {
    var form = document.querySelector("form[data-field-zero]");
    if (form) init(form);
  });
})();
