// The dashboard's only script (bundled, no CDN): live countdown, filters that apply on change,
// and a reload every data-refresh seconds unless the user is in the middle of a form.
(function () {
  "use strict";
  var body = document.body;

  function span(seconds) {
    var s = Math.abs(Math.floor(seconds));
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    return (d ? d + " 天 " : "") + h + " 小时 " + m + " 分 " + r + " 秒";
  }

  var deadline = body.getAttribute("data-deadline");
  var countdown = document.getElementById("countdown");
  if (deadline && countdown) {
    var end = new Date(deadline).getTime();
    var tick = function () {
      var left = (end - Date.now()) / 1000;
      countdown.textContent = left > 0 ? "距截止还有 " + span(left) : "已截止（已过 " + span(left) + "）";
    };
    tick();
    setInterval(tick, 1000);
  }

  ["filter-only", "filter-item"].forEach(function (id) {
    var select = document.getElementById(id);
    if (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    }
  });

  var busy = false;
  document.addEventListener("focusin", function (e) { busy = !!(e.target.closest && e.target.closest("form.assign, .login form")); });
  document.addEventListener("focusout", function () { busy = false; });
  var refresh = parseInt(body.getAttribute("data-refresh") || "0", 10);
  if (refresh > 0) {
    setInterval(function () {
      var open = document.querySelector("details[open]");
      if (!busy && !open && document.visibilityState === "visible") { window.location.reload(); }
    }, refresh * 1000);
  }
})();
