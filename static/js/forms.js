// Moves keyboard and screen-reader focus to a form's error summary after a failed submission,
// so the list of problems is read first. Forms work the same without this script.
(function () {
  "use strict";
  var summary = document.querySelector("[data-focus]");
  if (summary) {
    summary.focus();
  }
})();
