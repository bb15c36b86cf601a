// hrss-backoffice pages: small progressive enhancements only. Every page
// works without this file.
(function () {
  "use strict";
  // Move the keyboard focus to an error summary, so that it is read first.
  var problem = document.querySelector("[data-focus]");
  if (problem) { problem.focus(); }
  // Print buttons (the initial-password slip).
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  // Tables become lists on narrow screens and in the elder-friendly mode:
  // each cell is headed by its column's name (app.css, table.as-list).
  var tables = [];
  document.querySelectorAll("table").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    if (!heads.length) { return; }
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (cell, i) {
        var label = heads[i] && heads[i].textContent.trim();
        if (label && cell.tagName === "TD" && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", label); }
      });
    });
    tables.push(table);
  });
  var narrow = window.matchMedia("(max-width: 720px)");
  var elder = document.documentElement.classList.contains("elder");
  function layout() {
    tables.forEach(function (t) { t.classList.toggle("as-list", elder || narrow.matches); });
  }
  layout();
  if (narrow.addEventListener) { narrow.addEventListener("change", layout); }
})();
