// Live updates without reloading: every few seconds the page is fetched again and each
// element marked data-live (with an id) is replaced by its new version - unless the
// viewer is typing in it or has something in it open.
(function () {
  "use strict";
  var EVERY_MS = 3000;
  var busy = false;

  function inUse(element) {
    var active = document.activeElement;
    if (active && active !== document.body && element.contains(active) &&
        /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) { return true; }
    return element.querySelector("details[open]") !== null;
  }

  function refresh() {
    var parts = document.querySelectorAll("[data-live][id]");
    if (busy || parts.length === 0 || document.visibilityState !== "visible") { return; }
    busy = true;
    fetch(window.location.href, { headers: { "X-Tickwork-Live": "1" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.redirected || !response.ok) { return null; }
        return response.text();
      })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        parts.forEach(function (element) {
          var replacement = fresh.getElementById(element.id);
          if (replacement && !inUse(element) && replacement.innerHTML !== element.innerHTML) {
            element.innerHTML = replacement.innerHTML;
          }
        });
        document.dispatchEvent(new CustomEvent("tickwork:refreshed"));
      })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { busy = false; });
  }

  window.setInterval(refresh, EVERY_MS);
  document.addEventListener("visibilitychange", refresh);
})();
