/* Escalation cases: the next-update countdown ticks every second from data-due and turns red when missed. */
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function format(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) { return; }
      var left = due - now;
      var out = el.querySelector("[data-countdown-left]");
      var missed = left < 0;
      el.classList.toggle("is-missed", missed);
      if (out) {
        out.textContent = missed ? "(" + el.dataset.labelMissed + " " + format(left) + ")" : "(" + format(left) + " " + el.dataset.labelLeft + ")";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 1000);
  });
})();
