/* Border post: keep the scan field ready. After each answer (confirm panel or "recorded") the
 * field is cleared and focused again, so a hand scanner that types and presses Enter just works. */
(function () {
  "use strict";

  function refocus() {
    var input = document.getElementById("id_code");
    if (!input) { return; }
    input.value = "";
    input.focus();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "panel") {
      var recorded = event.detail.target.querySelector("[data-testid=recorded]");
      if (recorded) { refocus(); }
    }
  });
})();
