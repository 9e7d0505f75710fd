// Ticking rows for the bulk actions. Delegated from the document, because htmx
// replaces the table (and its checkboxes) after every filter change.
(function () {
  "use strict";

  function boxes() {
    return document.querySelectorAll('#prospect-table input[name="bulk-ids"]');
  }

  function showCount() {
    var out = document.getElementById("selected-count");
    if (!out) return;
    var n = Array.prototype.filter.call(boxes(), function (b) { return b.checked; }).length;
    out.textContent = n ? "(" + n + " ticked)" : "";
    var panel = document.getElementById("bulk-actions");
    if (panel && n) panel.open = true;
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "select-all") {
      boxes().forEach(function (box) { box.checked = target.checked; });
      showCount();
    } else if (target.name === "bulk-ids") {
      showCount();
    }
  });
})();

// Filter forms send only the filters that are set, so the URL pushed to the
// address bar (and shared) reads ?kind=haro, not ?q=&kind=haro&status=&...
document.addEventListener("htmx:configRequest", function (event) {
  var form = event.detail.elt;
  if (!form.hasAttribute || !form.hasAttribute("data-drop-empty")) return;
  var data = event.detail.formData;
  var empty = [];
  data.forEach(function (value, name) { if (value === "") empty.push(name); });
  empty.forEach(function (name) { data.delete(name); });
});
