/* Django admin, as OpsDesk serves it: every control gets an accessible name (axe, WCAG 2.1 AA).
   Tabular inlines label their cells only by the column header, the split date/time widget by bare text,
   select2 (autocomplete fields) by the selected value, and the filter widget's help icon carries an
   aria-label without a role. Runs after the admin's own scripts have built their widgets. */
(function () {
  "use strict";

  function text(node) {
    return node ? node.textContent.replace(/\s+/g, " ").replace(/[*:]\s*$/, "").trim() : "";
  }

  function named(control) {
    if (control.getAttribute("aria-label") || control.getAttribute("aria-labelledby")) {
      return true;
    }
    return Boolean(control.id && document.querySelector('label[for="' + control.id + '"]'));
  }

  function label(control, name) {
    if (name && !named(control)) {
      control.setAttribute("aria-label", name);
    }
  }

  function fieldLabel(control) {
    var row = control.closest(".form-row, .fieldBox, .form-multiline > div, div[class*='field-']");
    return row ? text(row.querySelector("label")) : "";
  }

  function fix(root) {
    /* Tabular inlines: the column header names each cell's control. */
    root.querySelectorAll(".tabular table").forEach(function (table) {
      var headers = Array.prototype.map.call(table.querySelectorAll("thead th"), text);
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, index) {
          cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (control) {
            var header = headers[index] || (control.name && control.name.endsWith("DELETE") ? "Delete" : "");
            label(control, header);
          });
        });
      });
    });
    /* Split date/time widgets: "Date:" and "Time:" are bare text before each input. */
    root.querySelectorAll("p.datetime input").forEach(function (input) {
      var before = input.previousSibling;
      while (before && before.nodeType === 3 && !before.textContent.trim()) {
        before = before.previousSibling;
      }
      var part = before && before.nodeType === 3 ? text(before) : "";
      label(input, [fieldLabel(input), part].filter(Boolean).join(" — "));
    });
    /* select2: the combobox and its search box are named after the field of the select it replaces. */
    root.querySelectorAll(".select2-container").forEach(function (container) {
      var select = container.previousElementSibling;
      if (!select || select.tagName !== "SELECT") {
        return;
      }
      var name = text(select.id && document.querySelector('label[for="' + select.id + '"]')) || fieldLabel(select);
      container.querySelectorAll("[role=combobox], [role=textbox], .select2-search__field").forEach(function (control) {
        control.removeAttribute("aria-labelledby");
        control.setAttribute("aria-label", name);
      });
    });
    /* A wide inline table scrolls inside its box; the box can be reached by keyboard. */
    root.querySelectorAll(".tabular fieldset.module, .sla-preview").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
      }
    });
    /* The filter widget's help icon: an image with a name. */
    root.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }

  window.addEventListener("load", function () {
    fix(document);
    /* Widgets built later (select2 on jQuery's ready, on a slow machine after the load event) are
       named as soon as they enter the page. */
    new MutationObserver(function (records) {
      var built = records.some(function (record) {
        return Array.prototype.some.call(record.addedNodes, function (node) {
          return node.nodeType === 1 && (node.matches(".select2-container") || node.querySelector(".select2-container"));
        });
      });
      if (built) {
        fix(document);  /* sets attributes only: observing the tree's children, this never calls itself */
      }
    }).observe(document.body, {childList: true, subtree: true});
  });
  document.addEventListener("formset:added", function (event) { fix(event.target.closest(".inline-group") || document); });
})();
