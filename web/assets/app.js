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
})();
