/* OpsDesk portal: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  /* Status form: show the blocking-reason select only for "waiting", the approver only for "on approval". */
  function syncStatusForm(form) {
    var status = form.querySelector("select[name=status]");
    var reason = form.querySelector("[data-reason-field]");
    var approver = form.querySelector("[data-approver-field]");
    if (!status) {
      return;
    }
    if (reason) {
      reason.hidden = status.value !== "waiting";
    }
    if (approver) {
      approver.hidden = status.value !== "on_approval";
    }
  }

  /* New ticket: the new-customer fields only matter when no existing customer is chosen. */
  function syncCustomerPicker(form) {
    var fields = form.querySelector("[data-new-customer]");
    if (!fields) {
      return;
    }
    var chosen = form.querySelector("input[name=customer]:checked");
    fields.classList.toggle("is-disabled", Boolean(chosen && chosen.value));
  }

  /* Enter in the customer search looks customers up instead of submitting the whole form. */
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("input[name=customer_q]")) {
      event.preventDefault();
      event.target.dispatchEvent(new Event("search"));
    }
  });

  /* A region that scrolls sideways (a wide table on a phone) can be reached and scrolled by keyboard. */
  function focusableScrollers(root) {
    root.querySelectorAll(".table-container, .table, .sla-card, .sla-panel").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
      }
    });
  }

  function init(root) {
    focusableScrollers(root);
    root.querySelectorAll("form[data-status-form]").forEach(function (form) {
      syncStatusForm(form);
      if (!form.dataset.enhanced) {
        form.dataset.enhanced = "1";
        form.addEventListener("change", function () { syncStatusForm(form); });
      }
    });
    document.querySelectorAll("form.create-form").forEach(function (form) {
      syncCustomerPicker(form);
      if (!form.dataset.enhanced) {
        form.dataset.enhanced = "1";
        form.addEventListener("change", function () { syncCustomerPicker(form); });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();
