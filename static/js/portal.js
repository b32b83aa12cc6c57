// Behaviour the templates ask for with data attributes, so that no page needs an inline
// script or an inline event handler: the Content-Security-Policy allows scripts from the
// portal's own files only, and htmx runs with eval switched off (no hx-on).
(function () {
  "use strict";

  // <select data-submit-on-change>: choosing an option submits its form (the company switcher).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field instanceof HTMLSelectElement && field.hasAttribute("data-submit-on-change") && field.form) {
      field.form.submit();
    }
  });

  // [data-keep-input]: what is typed here stays here. The form around it recomputes on every
  // input and change; a search box or a reason must not ask for that. The field's own htmx
  // trigger still hears the event: it listens on the field itself.
  function keep(event) {
    event.stopPropagation();
  }

  function bind(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    var fields = Array.prototype.slice.call(root.querySelectorAll("[data-keep-input]"));
    if (root.matches && root.matches("[data-keep-input]")) {
      fields.push(root);
    }
    fields.forEach(function (field) {
      if (field.dataset.keepInputBound) {
        return;
      }
      field.dataset.keepInputBound = "1";
      field.addEventListener("input", keep);
      field.addEventListener("change", keep);
    });
  }

  // htmx announces every piece of content it processes (the page, then each swap).
  document.addEventListener("htmx:load", function (event) {
    bind(event.detail.elt);
  });
  document.addEventListener("DOMContentLoaded", function () {
    bind(document);
  });
})();

// A box whose message (its aria-describedby) says it cannot be read is marked invalid, and
// unmarked once the message clears: the editor swaps only the messages while someone types.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll(".field-error[id]").forEach(function (message) {
      var box = document.querySelector("[aria-describedby='" + message.id + "']");
      if (!box) {
        return;
      }
      if (message.textContent.trim()) {
        box.setAttribute("aria-invalid", "true");
      } else {
        box.removeAttribute("aria-invalid");
      }
    });
  }
  document.addEventListener("htmx:afterSettle", mark);
})();
