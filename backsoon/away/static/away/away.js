// Out of office page: the live preview of the automatic reply, the "Exact times"
// switch and delete confirmations. The page works without this file: the preview is
// rendered by the server on load and after every submit.
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;

  function setText(root, name, text) {
    var el = root.querySelector('[data-preview="' + name + '"]');
    if (el) el.textContent = text;
    return el;
  }

  function show(root, name, visible) {
    var el = root.querySelector('[data-preview="' + name + '"]');
    if (el) el.hidden = !visible;
  }

  function render(form, data) {
    ["connection", "others"].forEach(function (key) {
      var c = data[key];
      if (!c) return;
      setText(form, key + "-text", c.text);
      show(form, key + "-bubble", c.sent);
      var note = setText(form, key + "-note", c.note);
      if (note) note.classList.toggle("is-none", !c.sent);
    });
    var warnings = data.warnings || [];
    setText(form, "warnings", warnings.join(" "));
    show(form, "warnings", warnings.length > 0);
  }

  function livePreview(form) {
    var url = form.getAttribute("data-preview-url");
    if (!url || !window.fetch || !window.FormData) return;
    var timer = null;
    var sent = 0;
    var shown = 0;
    var panel = form.querySelector(".away-preview");

    function refresh() {
      var n = ++sent;
      if (panel) panel.setAttribute("aria-busy", "true");
      fetch(url, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", Accept: "application/json" },
      })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (!response.ok || type.indexOf("application/json") === -1) return null;
          return response.json();
        })
        .then(function (data) {
          // Answers may arrive out of order: only the latest one counts.
          if (data && n > shown) {
            shown = n;
            render(form, data);
          }
        })
        .catch(function () {
          /* offline: keep the last preview */
        })
        .then(function () {
          if (panel && n === sent) panel.removeAttribute("aria-busy");
        });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DEBOUNCE_MS);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function isoDay(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }

  function nextDay(value) {
    var parts = value.split("-").map(Number);
    return isoDay(new Date(parts[0], parts[1] - 1, parts[2] + 1));
  }

  function previousDay(value) {
    var parts = value.split("-").map(Number);
    return isoDay(new Date(parts[0], parts[1] - 1, parts[2] - 1));
  }

  // Switching between whole days and exact times carries the dates over:
  // days D1..D2 are the times D1 00:00 to (D2 + 1) 00:00, and back.
  function exactTimesSwitch(form) {
    var box = form.querySelector('input[name="exact_times"]');
    if (!box) return;
    var first = form.querySelector('input[name="first_day"]');
    var last = form.querySelector('input[name="last_day"]');
    var start = form.querySelector('input[name="starts_at"]');
    var end = form.querySelector('input[name="ends_at"]');
    if (!first || !last || !start || !end) return;
    box.addEventListener("change", function () {
      if (box.checked) {
        if (!start.value && first.value) start.value = first.value + "T00:00";
        if (!end.value && last.value) end.value = nextDay(last.value) + "T00:00";
      } else {
        if (!first.value && start.value) first.value = start.value.slice(0, 10);
        if (!last.value && end.value) {
          var day = end.value.slice(0, 10);
          last.value = end.value.slice(11, 16) === "00:00" ? previousDay(day) : day;
        }
      }
    });
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  document.querySelectorAll("form[data-away-form]").forEach(function (form) {
    livePreview(form);
    exactTimesSwitch(form);
  });
  confirmations();
})();
