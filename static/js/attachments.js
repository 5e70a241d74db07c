/* File fields of the reply, note and new-ticket forms: drop files anywhere on the form, see what is chosen,
   remove one before sending. Without this script the plain file input (several files) still works. */
(function () {
  "use strict";

  function humanSize(bytes) {
    var units = ["B", "KB", "MB", "GB"];
    var size = bytes;
    var unit = 0;
    while (size >= 1024 && unit < units.length - 1) {
      size /= 1024;
      unit += 1;
    }
    return (unit === 0 ? String(size) : size.toFixed(1)) + "\u00a0" + units[unit];
  }

  function setFiles(input, files) {
    var transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
  }

  function render(form, input) {
    var list = form.querySelector("[data-chosen]");
    if (!list) {
      return;
    }
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (file, index) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.className = "attach-name";
      name.textContent = file.name;
      var size = document.createElement("span");
      size.className = "muted";
      size.textContent = " " + humanSize(file.size);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-ghost btn-small attach-remove";
      remove.textContent = "\u00d7";
      remove.setAttribute("aria-label", (list.dataset.removeLabel || "Remove") + " " + file.name);
      remove.addEventListener("click", function () {
        var kept = Array.prototype.filter.call(input.files, function (_file, i) { return i !== index; });
        setFiles(input, kept);
        render(form, input);
      });
      item.appendChild(name);
      item.appendChild(size);
      item.appendChild(remove);
      list.appendChild(item);
    });
  }

  function hasFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types || [], "Files") !== -1;
  }

  function enhance(form) {
    var input = form.querySelector("input[type=file][name=attachments]");
    if (!input || form.dataset.attachmentsEnhanced || typeof DataTransfer === "undefined") {
      return;
    }
    form.dataset.attachmentsEnhanced = "1";
    var hint = form.querySelector("[data-drop-hint]");
    if (hint) {
      hint.hidden = false;
    }
    var depth = 0;
    form.addEventListener("dragenter", function (event) {
      if (!hasFiles(event)) {
        return;
      }
      depth += 1;
      form.classList.add("is-dropping");
    });
    form.addEventListener("dragover", function (event) {
      if (hasFiles(event)) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
      }
    });
    form.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (depth === 0) {
        form.classList.remove("is-dropping");
      }
    });
    form.addEventListener("drop", function (event) {
      if (!hasFiles(event)) {
        return;
      }
      event.preventDefault();
      depth = 0;
      form.classList.remove("is-dropping");
      var files = Array.prototype.slice.call(input.files);
      Array.prototype.forEach.call(event.dataTransfer.files, function (file) { files.push(file); });
      setFiles(input, files);
      render(form, input);
    });
    input.addEventListener("change", function () { render(form, input); });
    render(form, input);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-attachments]").forEach(enhance);
  });
})();
