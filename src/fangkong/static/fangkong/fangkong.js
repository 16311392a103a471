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

  // Pickers (region, person): a search box fills a hidden input with the chosen code or id.
  function pickerOf(element) { return element.closest("[data-picker]"); }

  function choose(picker, value, label) {
    picker.querySelector("[data-picker-value]").value = value;
    var search = picker.querySelector("[data-picker-search]");
    search.value = label;
    search.setAttribute("aria-invalid", "false");
    picker.querySelector(".picker-options").innerHTML = "";
    picker.dispatchEvent(new CustomEvent("fangkong:picked", { bubbles: true, detail: { value: value } }));
  }

  document.addEventListener("click", function (event) {
    var option = event.target.closest("[data-pick-value]");
    if (!option) return;
    var picker = pickerOf(option);
    if (!picker) return;
    event.preventDefault();
    choose(picker, option.getAttribute("data-pick-value"), option.getAttribute("data-pick-label"));
  });

  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-picker-search]")) return;
    // Typing again forgets the earlier choice: a stale id must never be submitted.
    pickerOf(event.target).querySelector("[data-picker-value]").value = "";
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.matches("[data-picker-search]")) return;
    var picker = pickerOf(event.target);
    var options = picker.querySelectorAll("[data-pick-value]");
    event.preventDefault();
    if (options.length >= 1) {
      choose(picker, options[0].getAttribute("data-pick-value"), options[0].getAttribute("data-pick-label"));
    }
  });

  // A field whose whole text is selected on focus (a scan field: the next scan replaces a
  // refused code instead of being appended to it), instead of an inline onfocus.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });

  // A filter select that submits its form when changed (instead of an inline onchange).
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });
})();
