// stockroom: small progressive enhancements. Everything works without this file.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx requests carry the CSRF token as a header; plain forms carry it as a field.
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta) {
      event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });
  // Automatic log-off: the server ends an idle session; leave the page at
  // the same moment so nothing stays on screen. Requests made from the page
  // (htmx) count as activity, as they do on the server.
  var idle = document.querySelector('meta[name="idle-logout-seconds"]');
  if (idle) {
    var seconds = parseInt(idle.getAttribute("content"), 10);
    if (seconds > 0) {
      var timer;
      var arm = function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          window.location.assign("/login?expired=1");
        }, (seconds + 2) * 1000);
      };
      arm();
      document.addEventListener("htmx:afterRequest", arm);
    }
  }
  // A form shown again with errors: move focus to its summary so that
  // screen readers announce it and keyboard users start there.
  var summary = document.querySelector("[data-autofocus]");
  if (summary) {
    summary.focus();
  }
  // Forms ask for confirmation when marked with data-confirm.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
