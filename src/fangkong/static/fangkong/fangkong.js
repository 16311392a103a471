/* Fangkong: the little behaviour the pages need beyond htmx (no inline scripts). */
(function () {
  "use strict";

  // The navigation folds away on phones behind the menu button.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".nav-toggle");
    if (!toggle) return;
    var nav = document.getElementById(toggle.getAttribute("aria-controls"));
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("is-open", open);
  });

  // Region tree: the first click loads the children through htmx, later clicks fold them.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-tree-toggle]");
    if (!button) return;
    var node = button.closest(".tree-node");
    var children = node.querySelector(".tree-children");
    var expanded = button.getAttribute("aria-expanded") === "true";
    if (children.childElementCount > 0) {
      event.preventDefault();
      event.stopImmediatePropagation();
      children.hidden = expanded;
    }
    button.setAttribute("aria-expanded", String(!expanded));
    button.textContent = expanded ? "+" : "−";
  }, true);
})();
