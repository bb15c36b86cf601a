// hrss-backoffice pages: small progressive enhancements only. Every page
// works without this file.
(function () {
  "use strict";
  // Move the keyboard focus to an error summary, so that it is read first.
  var problem = document.querySelector("[data-focus]");
  if (problem) { problem.focus(); }
  // A link of the error summary puts the focus in its field (a fragment
  // alone only scrolls there). From the keyboard, after the Enter key is
  // released: a field focused while Enter is down would take the key and
  // submit the form.
  document.querySelectorAll("#problem a[href^='#']").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      var field = document.getElementById(a.getAttribute("href").slice(1));
      if (!field || typeof field.focus !== "function") { return; }
      ev.preventDefault();
      var go = function () { field.focus(); field.scrollIntoView({block: "center"}); };
      if (ev.detail === 0) {
        var done = false;
        var once = function () { document.removeEventListener("keyup", once, true); if (!done) { done = true; go(); } };
        document.addEventListener("keyup", once, true);
        window.setTimeout(once, 1000);
      } else {
        go();
      }
    });
  });
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
  // A table wider than the window scrolls in its box: the box then takes
  // the keyboard focus (arrow keys scroll it) and is named by the heading
  // before it.
  function scrollable() {
    document.querySelectorAll(".table-wrap").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        var h = box.closest("section, main");
        h = h && h.querySelector("h2, h1");
        if (h && !box.hasAttribute("aria-label")) { box.setAttribute("aria-label", h.textContent.trim()); }
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
      }
    });
  }
  function layout() {
    tables.forEach(function (t) { t.classList.toggle("as-list", elder || narrow.matches); });
    scrollable();
  }
  layout();
  if (narrow.addEventListener) { narrow.addEventListener("change", layout); }
  window.addEventListener("resize", scrollable);
  // The session ends at a fixed time: say so before it does (the banner
  // is in the page, hidden, with the end in Unix seconds).
  var ending = document.getElementById("session-warning");
  if (ending) {
    var warnAt = (Number(ending.getAttribute("data-end")) - Number(ending.getAttribute("data-warn"))) * 1000;
    var show = function () { ending.hidden = false; };
    if (Date.now() >= warnAt) { show(); } else { window.setTimeout(show, Math.min(warnAt - Date.now(), 2147483647)); }
  }
  // Notices of a fixed end that cannot be moved (the pickup window of an
  // initial password): shown data-warn seconds before data-end.
  document.querySelectorAll("[data-deadline]").forEach(function (box) {
    var at = (Number(box.getAttribute("data-deadline")) - Number(box.getAttribute("data-warn"))) * 1000;
    var reveal = function () { box.hidden = false; };
    if (Date.now() >= at) { reveal(); } else { window.setTimeout(reveal, Math.min(at - Date.now(), 2147483647)); }
  });
  // A staff session also ends after a time without use, which any request
  // pushes back: say so before the idle end and let the person stay signed
  // in without leaving the page (what they typed stays). Without the
  // script the button posts the form and comes back to the page.
  var idle = document.getElementById("idle-warning");
  var idleForm = document.getElementById("idle-extend-form");
  if (idle && idleForm) {
    var idleEnded = document.getElementById("idle-ended");
    var idleSaid = document.getElementById("idle-extended");
    var timers = [];
    var ended = function () { idleForm.hidden = true; idleEnded.hidden = false; idle.hidden = false; };
    var arm = function () {
      timers.forEach(window.clearTimeout);
      var end = Number(idle.getAttribute("data-end")) * 1000;
      var warn = Number(idle.getAttribute("data-warn")) * 1000;
      var gone = Number(idle.getAttribute("data-ended")) * 1000;
      timers = [window.setTimeout(function () { idle.hidden = false; }, Math.max(0, end - warn - Date.now())),
        window.setTimeout(ended, Math.max(0, gone - Date.now()))];
    };
    idleForm.addEventListener("submit", function (ev) {
      if (!window.fetch || !window.URLSearchParams) { return; }
      ev.preventDefault();
      fetch(idleForm.action, {method: "POST", credentials: "same-origin",
        headers: {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
        body: new URLSearchParams(new FormData(idleForm)).toString()})
        .then(function (r) { if (!r.ok) { throw r; } return r.json(); })
        .then(function (d) {
          if (!d.idle_end) { idle.hidden = true; timers.forEach(window.clearTimeout); return; }
          idle.setAttribute("data-end", d.idle_end);
          idle.setAttribute("data-ended", d.ended_at);
          idle.setAttribute("data-warn", d.warn);
          document.getElementById("idle-clock").textContent = d.clock;
          idle.hidden = true;
          idleSaid.textContent = idleSaid.getAttribute("data-text");
          document.getElementById("main").focus();
          arm();
        })
        .catch(ended);
    });
    arm();
  }
})();
