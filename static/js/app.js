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
  var narrow = window.matchMedia("(max-width: 700px)");
  // Phones: a list's filters start folded (details/summary) unless one is set in the URL.
  if (narrow.matches) {
    var query = new URLSearchParams(window.location.search);
    document.querySelectorAll("details[data-collapse-narrow]").forEach(function (box) {
      var set = Array.prototype.some.call(box.querySelectorAll("[name]"), function (field) {
        return Boolean(query.get(field.name));
      });
      if (!set) box.open = false;
    });
  }
  // A navigation wider than the screen scrolls sideways: a fade on the side that has more
  // (data-more="left right"), so it shows that it scrolls.
  document.querySelectorAll("[data-scroll-hint]").forEach(function (nav) {
    var strip = nav.querySelector("ul");
    function mark() {
      var more = [];
      if (strip.scrollLeft > 1) more.push("left");
      if (strip.scrollLeft + strip.clientWidth < strip.scrollWidth - 1) more.push("right");
      nav.dataset.more = more.join(" ");
    }
    strip.addEventListener("scroll", mark, { passive: true });
    window.addEventListener("resize", mark);
    var current = strip.querySelector("[aria-current]");
    if (current && narrow.matches) current.scrollIntoView({ block: "nearest", inline: "nearest" });
    mark();
  });
})();
