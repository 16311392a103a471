/* The chain of transmission view: draws the JSON of /api/v1/tracing/chains with Cytoscape
   (vendored), cases coloured by cluster generation, contacts as smaller nodes. The image
   export is Cytoscape's own PNG rendering, done in the browser. */
(function () {
  "use strict";
  var box = document.getElementById("chain");
  if (!box || typeof cytoscape === "undefined") { return; }
  var generationWord = box.dataset.generation || "";
  fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var elements = [];
      data.nodes.forEach(function (n) {
        var label = n.label + (n.kind === "case" ? " · " + generationWord + " " + n.generation : "");
        elements.push({ data: { id: n.id, label: label, kind: n.kind, source: n.source ? "yes" : "no",
                                status: n.status || "" } });
      });
      data.edges.forEach(function (e, i) {
        elements.push({ data: { id: "e" + i, source: e.source, target: e.target, kind: e.kind } });
      });
      var cy = cytoscape({
        container: box,
        elements: elements,
        layout: { name: "breadthfirst", directed: true, spacingFactor: 1.1 },
        style: [
          { selector: "node", style: { label: "data(label)", "font-size": 10, "background-color": "#c0392b",
                                         width: 22, height: 22, "text-valign": "bottom" } },
          { selector: "node[source = 'yes'][kind = 'case']", style: { "background-color": "#7b241c", shape: "star", width: 30, height: 30 } },
          { selector: "node[kind = 'close']", style: { "background-color": "#e67e22", width: 14, height: 14 } },
          { selector: "node[kind = 'secondary']", style: { "background-color": "#f4d03f", width: 12, height: 12 } },
          { selector: "node[status = 'excluded']", style: { "background-color": "#95a5a6" } },
          { selector: "edge", style: { width: 1.5, "line-color": "#999", "target-arrow-shape": "triangle",
                                        "target-arrow-color": "#999", "curve-style": "bezier" } },
          { selector: "edge[kind = 'infection']", style: { width: 2.5, "line-color": "#c0392b", "target-arrow-color": "#c0392b" } }
        ]
      });
      box.dataset.nodes = String(cy.nodes().length);
      var body = document.querySelector("#clusters tbody");
      data.clusters.forEach(function (c) {
        var tr = document.createElement("tr");
        [c.source_case_id, c.size, c.generations, c.serial_interval_mean === null ? "—" : c.serial_interval_mean]
          .forEach(function (v) { var td = document.createElement("td"); td.textContent = String(v); tr.appendChild(td); });
        body.appendChild(tr);
      });
      var button = document.getElementById("chain-png");
      if (button) {
        button.addEventListener("click", function () {
          var a = document.createElement("a");
          a.href = cy.png({ full: true, bg: "#ffffff", scale: 2 });
          a.download = "chains.png";
          a.click();
        });
      }
    });
})();
