// The schedule editor: show the fields of the chosen kinds, fill the cron field from
// presets, and check the cron expression live (its meaning and next fires in the zone).
(function () {
  "use strict";
  var form = document.querySelector("form.editor");
  if (!form) { return; }
  var cron = form.querySelector("#cron");
  var zone = form.querySelector("#timezone");
  var live = document.getElementById("cron-live");
  var next = document.getElementById("cron-next");
  var zoneLive = document.getElementById("zone-live");

  // Kind switches: show only the blocks whose data-when matches the checked choices.
  function checked(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : "";
  }
  function showChosen() {
    form.querySelectorAll("[data-when]").forEach(function (block) {
      var rule = block.getAttribute("data-when").split("=");
      block.hidden = checked(rule[0]) !== rule[1];
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.type === "radio") { showChosen(); }
  });
  showChosen();

  // Live cron check, debounced.
  var timer = null;
  var asked = 0;
  function text(tag, className, content) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    element.textContent = content;
    return element;
  }
  function show(answer) {
    live.replaceChildren();
    next.replaceChildren();
    zoneLive.textContent = answer.zone_error ? "Time zone " + answer.zone_error : "";
    zone.setAttribute("aria-invalid", answer.zone_error ? "true" : "false");
    if (answer.valid) {
      live.appendChild(text("p", "cron-description", answer.description));
      cron.setAttribute("aria-invalid", "false");
      answer.next.forEach(function (fire) {
        var item = document.createElement("li");
        item.appendChild(text("span", "", fire.local));
        item.appendChild(text("span", "dim", fire.utc));
        next.appendChild(item);
      });
    } else {
      live.appendChild(text("p", "field-error", answer.error));
      cron.setAttribute("aria-invalid", "true");
    }
  }
  function check() {
    var ticket = ++asked;
    var query = "expression=" + encodeURIComponent(cron.value) + "&timezone=" + encodeURIComponent(zone.value || "UTC");
    fetch("/ui/cron?" + query, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer && ticket === asked) { show(answer); } })
      .catch(function () { /* keep what is shown */ });
  }
  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 250);
  }
  cron.addEventListener("input", soon);
  zone.addEventListener("input", soon);
  zone.addEventListener("change", soon);

  // Presets.
  function setCron(expression) {
    cron.value = expression;
    cron.focus();
    check();
  }
  form.querySelectorAll("[data-preset]").forEach(function (button) {
    button.addEventListener("click", function () { setCron(button.getAttribute("data-preset")); });
  });
  form.querySelectorAll("[data-preset-kind]").forEach(function (button) {
    button.addEventListener("click", function () {
      var time = (document.getElementById("preset-time").value || "09:00").split(":");
      var hour = String(parseInt(time[0], 10) || 0);
      var minute = String(parseInt(time[1], 10) || 0);
      var day = document.getElementById("preset-day").value || "1";
      var kind = button.getAttribute("data-preset-kind");
      if (kind === "daily") { setCron(minute + " " + hour + " * * *"); }
      if (kind === "weekdays") { setCron(minute + " " + hour + " * * 1-5"); }
      if (kind === "monthly") { setCron(minute + " " + hour + " " + day + " * *"); }
    });
  });

  // The browser's own zone.
  var mine = form.querySelector("[data-browser-zone]");
  if (mine && window.Intl) {
    mine.addEventListener("click", function () {
      zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      check();
    });
  }

  if (cron.value) { check(); }
})();
