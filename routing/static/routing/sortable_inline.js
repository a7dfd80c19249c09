/* Drag-and-drop ordering for admin inlines marked "sortable-inline".
 * Rows are moved by their handle; on submit each row that names a model gets
 * its position from its place on the page, so the server sees the new order
 * through the ordinary hidden "position" field. No library, no CDN. */
"use strict";
(function () {
  function rows(tbody) {
    return Array.from(tbody.querySelectorAll("tr.form-row:not(.empty-form)"));
  }

  function renumber(tbody) {
    let position = 0;
    for (const row of rows(tbody)) {
      const input = row.querySelector("input[name$='-position']");
      const model = row.querySelector("[name$='-model']");
      if (input && model && model.value) {
        input.value = String(position);
        position += 1;
      }
    }
  }

  function makeSortable(group) {
    const tbody = group.querySelector("tbody");
    if (!tbody) return;
    let dragged = null;
    tbody.addEventListener("dragstart", (event) => {
      dragged = event.target.closest("tr.form-row");
      event.dataTransfer.effectAllowed = "move";
      dragged.classList.add("sortable-dragging");
    });
    tbody.addEventListener("dragover", (event) => {
      const over = event.target.closest("tr.form-row");
      if (!dragged || !over || over === dragged) return;
      event.preventDefault();
      const box = over.getBoundingClientRect();
      const after = event.clientY > box.top + box.height / 2;
      tbody.insertBefore(dragged, after ? over.nextSibling : over);
    });
    tbody.addEventListener("dragend", () => {
      if (dragged) dragged.classList.remove("sortable-dragging");
      dragged = null;
      renumber(tbody);
    });
    for (const row of rows(tbody)) row.draggable = true;
    group.closest("form").addEventListener("submit", () => renumber(tbody));
    document.addEventListener("formset:added", (event) => {
      event.target.draggable = true;
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll(".inline-group").forEach((group) => {
      if (group.querySelector("fieldset.sortable-inline, .sortable-inline")) makeSortable(group);
    });
  });
})();
