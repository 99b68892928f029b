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
  // Bulk bar: a box that checks every row of the page, and a live count of checked rows;
  // the expiry date is asked only for an acceptance.
  var bulk = document.getElementById("bulk");
  if (bulk) {
    var boxes = function () { return document.querySelectorAll("input[form=bulk][name=finding]"); };
    var all = document.getElementById("bulk-all");
    var count = document.getElementById("bulk-count");
    var op = bulk.querySelector("select[name=operation]");
    var until = bulk.querySelector("input[name=until]");
    var reason = bulk.querySelector("input[name=reason]");
    var refresh = function () {
      var n = Array.prototype.filter.call(boxes(), function (b) { return b.checked; }).length;
      if (count) count.textContent = n + " selected";
      bulk.dataset.empty = n ? "false" : "true";
      if (all) all.checked = n > 0 && n === boxes().length;
    };
    var rules = function () {
      var accept = op.value === "accept";
      until.required = accept;
      until.closest(".field").hidden = !accept;
      reason.required = accept || op.value === "false_positive";
    };
    if (all) all.addEventListener("change", function () {
      boxes().forEach(function (b) { b.checked = all.checked; });
      refresh();
    });
    document.addEventListener("change", function (e) {
      if (e.target.matches && e.target.matches("input[form=bulk][name=finding]")) refresh();
    });
    op.addEventListener("change", rules);
    rules();
    refresh();
  }
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
