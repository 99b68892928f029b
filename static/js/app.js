// Remediator: small enhancements only. Every action works without this file.
(function () {
  "use strict";
  // Double-submit guard: a form marked data-once disables its buttons after the first submit.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-once]")) return;
    if (form.dataset.submitted === "1") { event.preventDefault(); return; }
    form.dataset.submitted = "1";
    // Defer so the clicked button's name/value is still sent with this submit.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
        button.textContent = button.textContent + "…";
      });
    }, 0);
  });
  // Reject needs a reason: focus the field instead of a bare browser message.
  document.querySelectorAll("form[data-once] input[name=reason][required]").forEach(function (input) {
    input.addEventListener("invalid", function () { input.focus(); });
  });
})();
