// Copy buttons: <button data-copy="ID" data-copied="Copied"> copies the value of the
// input #ID, or the text of any other element #ID.
//
// Without this file a button marked `hidden` stays hidden, and a readonly input is
// there to select and copy by hand; with it, the button shows and a readonly input
// with a copy button selects its whole value on focus.
(function () {
  "use strict";

  function isField(el) {
    return el.tagName === "INPUT" || el.tagName === "TEXTAREA";
  }

  function select(source) {
    if (isField(source)) {
      source.focus();
      source.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copied(button) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = button.getAttribute("data-copied") || label;
    button.setAttribute("data-copy-state", "copied");
    window.setTimeout(function () {
      button.textContent = label;
      button.removeAttribute("data-copy-state");
    }, 2000);
  }

  document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
    if (document.getElementById(button.getAttribute("data-copy"))) button.hidden = false;
  });

  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (isField(el) && el.readOnly && el.id && document.querySelector('[data-copy="' + el.id + '"]')) {
      el.select();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = isField(source) ? source.value : source.innerText.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(button); },
        function () { select(source); } // refused: selected, ready for Ctrl+C
      );
      return;
    }
    // Plain http (a local install): select it so that Ctrl+C copies it.
    select(source);
    try {
      if (document.execCommand("copy")) copied(button);
    } catch (e) { /* selected: copy by hand */ }
  });
})();
