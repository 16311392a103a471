/* Supplies: the print buttons of the ledger and the certificate (no inline handlers: CSP). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
