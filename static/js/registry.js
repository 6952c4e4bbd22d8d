// Registry pages: skip logic for the date of birth, MRZ paste helper, print button.
// Loaded from a file (CSP: no inline scripts). Pages work without it.
(function () {
  "use strict";

  var BIRTH_FIELDS = { exact: "div_id_birth_date", year: "div_id_birth_year", estimated: "div_id_age" };

  function applyBirthSkipLogic(root) {
    var checked = root.querySelector("input[name=birth_precision]:checked");
    if (!checked) return;
    Object.keys(BIRTH_FIELDS).forEach(function (precision) {
      var box = root.querySelector("#" + BIRTH_FIELDS[precision]);
      if (box) box.classList.toggle("is-hidden-by-skip-logic", precision !== checked.value);
    });
  }

  function fillFromMrz(textarea) {
    // The scanner types the MRZ; prefill the number and kind when they are empty.
    var form = textarea.form;
    var lines = textarea.value.trim().toUpperCase().split(/\s*\n\s*/);
    if (!form || lines.length !== 2 || lines[1].length !== 44) return;
    var number = form.querySelector("input[name=number]");
    var kind = form.querySelector("select[name=kind]");
    if (number && !number.value) number.value = lines[1].slice(0, 9).replace(/</g, "");
    if (kind && !kind.value && lines[0].charAt(0) === "P") kind.value = "passport";
  }

  function init(root) {
    root.querySelectorAll("input[name=birth_precision]").forEach(function (radio) {
      radio.addEventListener("change", function () { applyBirthSkipLogic(document); });
    });
    applyBirthSkipLogic(root);
    root.querySelectorAll("textarea[name=mrz]").forEach(function (area) {
      area.addEventListener("change", function () { fillFromMrz(area); });
    });
    root.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
})();
