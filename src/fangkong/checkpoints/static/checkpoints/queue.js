// Passages recorded on a flaky connection: when the POST cannot reach the server, the form
// is kept in this phone's storage with its client key and sent to the API later; the
// server stores each client key once, so a resend never doubles a passage.
(function () {
  "use strict";
  var KEY = "fangkong.checkpoints.queue";
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); show(); }
  function show() {
    var q = load(), el = document.getElementById("cp-queue");
    if (!el) { el = document.createElement("p"); el.id = "cp-queue"; el.className = "cp-queue";
      var panel = document.querySelector(".cp-title"); if (panel) panel.after(el); }
    el.hidden = q.length === 0;
    el.textContent = "离线暂存 " + q.length + " 条，联网后自动上传";
  }
  function item(form) {
    var f = new FormData(form), occ = (f.get("occupants") || "").split(/\n/).filter(Boolean);
    var key = f.get("client_key");
    return { url: form.dataset.queueUrl, body: { items: [{
      kind: f.get("kind"), direction: f.get("direction"), person_id: f.get("person") ? Number(f.get("person")) : null,
      name: f.get("name") || "", id_number: f.get("id_number") || "", plate: f.get("plate") || "",
      origin: f.get("origin") || "", temperature: f.get("temperature") || null,
      code_colour: f.get("code_colour"), itinerary_ok: !!f.get("itinerary_ok"), mask: !!f.get("mask"),
      disinfected: !!f.get("disinfected"), outcome: f.get("outcome") || "", client_key: key,
      at: new Date().toISOString(),
      occupants: occ.map(function (t, i) { return /^\d{17}[\dXx]$/.test(t.trim()) ? { id_number: t.trim(), client_key: key + "-" + i } : { name: t.trim(), client_key: key + "-" + i }; })
    }] } };
  }
  function flush() {
    var q = load(); if (!q.length || !navigator.onLine) return;
    var token = document.querySelector("[name=csrfmiddlewaretoken]");
    var next = q[0];
    fetch(next.url, { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" }, body: JSON.stringify(next.body) })
      .then(function (r) { if (r.ok || (r.status >= 400 && r.status < 500)) { save(load().slice(1)); flush(); } })
      .catch(function () {});
  }
  document.addEventListener("htmx:sendError", function (ev) {
    var form = ev.detail.elt && ev.detail.elt.closest ? ev.detail.elt.closest("#passage-form") : null;
    if (!form || ev.detail.elt !== form) return;
    var q = load(); q.push(item(form)); save(q);
    form.reset();
    var key = form.querySelector("[name=client_key]");
    if (key) key.value = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now())).replace(/-/g, "");
  });
  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.matches && ev.target.matches("[data-print]")) window.print();
  });
  window.addEventListener("online", flush);
  document.addEventListener("DOMContentLoaded", function () { show(); flush(); setInterval(flush, 30000); });
})();
