// Light or dark: the viewer's choice (kept in this browser), else the system's.
(function () {
  "use strict";
  var KEY = "tickwork-theme";
  var root = document.documentElement;
  function system() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  function apply(theme) { root.setAttribute("data-theme", theme); }
  var saved = null;
  try { saved = window.localStorage.getItem(KEY); } catch (e) { /* storage off */ }
  apply(saved || system());
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-theme-toggle]");
    if (!button) { return; }
    var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
    apply(next);
    try { window.localStorage.setItem(KEY, next); } catch (e) { /* storage off */ }
  });
})();
