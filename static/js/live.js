/* OpsDesk portal: lists that stay current without reloading. Every page works without this file.

   SLA badges: each running badge carries its due instant (data-sla-due, UTC) and the business time left,
   overdue and the target at render (seconds). One timer for the page recomputes the text and colour every
   30 s from the browser clock; no request is made. Paused and stopped clocks carry no due instant and
   stay as rendered. Business calendars: business time left can never exceed the wall-clock time to the
   due instant, so the badge shows min(left at render, time to due); that is exact on 24/7 calendars and
   inside working hours, and never shows a breach early.
   The unit words come from the server (the JSON script tag #sla-countdown-config), so the text matches
   core.formatting.format_duration in either language.

   Dashboard: the htmx refresh replaces the body; the <details> sections the user opened or closed are
   remembered in sessionStorage and restored after each swap and on reload. */
(function () {
  "use strict";

  var config = null;

  function getConfig() {
    if (config === null) {
      var el = document.getElementById("sla-countdown-config");
      config = el ? JSON.parse(el.textContent) : false;
    }
    return config;
  }

  function fill(template, values) {
    return template.replace(/%\((\w+)\)d/g, function (match, name) { return String(values[name]); });
  }

  /* The same rules as core.formatting.format_duration. */
  function formatDuration(seconds, c) {
    seconds = Math.abs(seconds);
    if (seconds === 0) {
      return c.zero;
    }
    var totalMinutes = Math.floor(seconds / 60);
    var hours = Math.floor(totalMinutes / 60);
    var minutes = totalMinutes % 60;
    if (hours && minutes) {
      return fill(c.hm, { hours: hours, minutes: minutes });
    }
    if (hours) {
      return fill(c.h, { hours: hours });
    }
    if (minutes) {
      return fill(c.m, { minutes: minutes });
    }
    return c.less;
  }

  function updateBadge(badge, now, c) {
    var due = Date.parse(badge.dataset.slaDue);
    var time = badge.querySelector(".sla-time");
    if (isNaN(due) || !time) {
      return;
    }
    var left = Number(badge.dataset.slaLeft) || 0;
    var over = Number(badge.dataset.slaOver) || 0;
    var target = Number(badge.dataset.slaTarget) || 0;
    var toDue = Math.floor((due - now) / 1000);
    var text;
    var colour;
    if (toDue > 0 && over === 0) {
      left = Math.min(left, toDue);
      text = formatDuration(left, c);
      var percent = target > 0 ? Math.floor((target - left) * 100 / target) : 100;
      if (badge.dataset.slaBreached) {
        colour = "red";
      } else if (percent >= c.orange) {
        colour = "orange";
      } else if (percent >= c.yellow) {
        colour = "yellow";
      } else {
        colour = "green";
      }
    } else {
      over = Math.max(over, -toDue);
      text = over > 0 ? "\u2212" + formatDuration(over, c) : formatDuration(0, c);
      colour = "red";
    }
    if (time.textContent !== text) {
      time.textContent = text;
    }
    ["green", "yellow", "orange", "red"].forEach(function (name) {
      badge.classList.toggle("sla-" + name, name === colour);
    });
  }

  function tick(root) {
    var c = getConfig();
    if (!c) {
      return;
    }
    var now = Date.now();
    (root || document).querySelectorAll(".sla-badge[data-sla-due]").forEach(function (badge) {
      updateBadge(badge, now, c);
    });
  }

  /* --- dashboard sections ------------------------------------------------------------------ */
  var STORE = "opsdesk:open-sections:" + location.pathname;

  function sectionKey(details) {
    return details.dataset.keepOpen || (details.dataset.breakdown ? "breakdown:" + details.dataset.breakdown : "");
  }

  function readSections() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function restoreSections(root) {
    var saved = readSections();
    (root || document).querySelectorAll("[data-keep-sections] details").forEach(function (details) {
      var key = sectionKey(details);
      if (key && Object.prototype.hasOwnProperty.call(saved, key)) {
        details.open = Boolean(saved[key]);
      }
    });
  }

  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("[data-keep-sections] details")) {
      return;
    }
    var key = sectionKey(details);
    if (!key) {
      return;
    }
    var saved = readSections();
    saved[key] = details.open;
    try {
      sessionStorage.setItem(STORE, JSON.stringify(saved));
    } catch (e) { /* storage full or disabled: the sections simply reset */ }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    restoreSections(document);
    tick(document);
    window.setInterval(function () { tick(document); }, 30000);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    /* outerHTML swaps replace the target, so look at the whole page (a few dozen badges at most). */
    restoreSections(document);
    tick(document);
  });
})();
