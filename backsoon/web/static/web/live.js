/* Backsoon live updates (server-sent events) and small messaging behaviours.
 *
 * Loaded on every page of a signed-in member (no inline script: the CSP is
 * script-src 'self'). The page says what it shows through data attributes:
 *   [data-live-count="messages|requests|invitations|notifications"]  header counters
 *   [data-live-list="conversations|invitations"][data-url]  lists refetched as HTML
 *   #conversation[data-conversation][data-after][data-messages-url][data-read-url]
 *     the open conversation: new messages are appended without reloading.
 * Everything degrades to plain links and forms without JavaScript.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var streamUrl = script && script.dataset.stream;
  var countsUrl = script && script.dataset.counts;
  var baseTitle = document.title.replace(/^\(\d+\)\s*/, "");

  function get(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", Accept: "text/html, application/json" },
    }).then(function (response) {
      if (!response.ok) throw new Error(url + ": " + response.status);
      return response;
    });
  }

  /* One request at a time per key; a call while one runs schedules one more run. */
  var running = {};
  function serial(key, job) {
    if (running[key]) {
      running[key] = "again";
      return;
    }
    running[key] = "busy";
    Promise.resolve()
      .then(job)
      .catch(function () {})
      .then(function () {
        var again = running[key] === "again";
        running[key] = null;
        if (again) serial(key, job);
      });
  }

  /* -- header counts ------------------------------------------------------------------ */

  function showCounts(counts) {
    var total = 0;
    Object.keys(counts).forEach(function (name) {
      var n = Number(counts[name]) || 0;
      total += n;
      document.querySelectorAll('[data-live-count="' + name + '"]').forEach(function (el) {
        el.textContent = n > 0 ? String(n) : "";
      });
    });
    document.title = total > 0 ? "(" + total + ") " + baseTitle : baseTitle;
  }

  function refreshCounts() {
    if (!countsUrl) return;
    serial("counts", function () {
      return get(countsUrl)
        .then(function (r) { return r.json(); })
        .then(showCounts);
    });
  }

  /* -- lists (conversations, invitations) ---------------------------------------------- */

  function refreshList(name) {
    var el = document.querySelector('[data-live-list="' + name + '"]');
    if (!el || !el.dataset.url) return;
    serial("list:" + name, function () {
      return get(el.dataset.url)
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var top = el.scrollTop;
          if (el.contains(document.activeElement) && document.activeElement.closest("form")) {
            return; // never pull a form from under a member who is using it
          }
          if (el.querySelector("input[type=checkbox]:checked")) {
            return; // nor a selection for a bulk action
          }
          el.innerHTML = html;
          el.scrollTop = top;
        });
    });
  }

  /* -- the open conversation ----------------------------------------------------------- */

  var pane = document.getElementById("conversation");
  var readPending = false;

  function openConversationId() {
    return pane && !pane.dataset.paused ? Number(pane.dataset.conversation) : null;
  }

  function scroller() {
    return pane && pane.querySelector("[data-scroll]");
  }

  function nearBottom() {
    var box = scroller();
    if (box && box.scrollHeight > box.clientHeight + 2) {
      return box.scrollHeight - box.scrollTop - box.clientHeight < 160;
    }
    var doc = document.documentElement;
    return doc.scrollHeight - window.scrollY - window.innerHeight < 260;
  }

  function showLatest() {
    var box = scroller();
    if (box && box.scrollHeight > box.clientHeight + 2) {
      box.scrollTop = box.scrollHeight; // the message pane scrolls (wide screens)
      return;
    }
    var compose = document.getElementById("latest"); // the page scrolls (phones)
    if (compose) compose.scrollIntoView({ block: "end" });
  }

  function markRead() {
    if (!pane || !pane.dataset.readUrl) return;
    if (document.visibilityState !== "visible") {
      readPending = true;
      return;
    }
    readPending = false;
    fetch(pane.dataset.readUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": pane.dataset.csrf || "", "X-Requested-With": "fetch" },
    }).catch(function () {});
  }

  function appendMessages(html) {
    var list = pane.querySelector(".messages");
    if (!list) return;
    var stick = nearBottom();
    var template = document.createElement("template");
    template.innerHTML = html;
    template.content.querySelectorAll("[data-id]").forEach(function (item) {
      if (document.getElementById("m" + item.dataset.id)) item.remove();
    });
    var fresh = template.content.querySelectorAll("[data-id]");
    if (!fresh.length) return;
    var fromOthers = template.content.querySelectorAll(".msg:not(.mine)").length > 0;
    var empty = list.querySelector("[data-empty]");
    if (empty) empty.remove();
    pane.dataset.after = fresh[fresh.length - 1].dataset.id;
    list.appendChild(template.content);
    if (stick || !fromOthers) showLatest();
    if (fromOthers) markRead(); // its "read" event then refreshes the list and counts
    else refreshList("conversations");
  }

  function fetchNewMessages() {
    if (!openConversationId() || !pane.dataset.messagesUrl) return;
    serial("messages", function () {
      var url = pane.dataset.messagesUrl + "?after=" + encodeURIComponent(pane.dataset.after || "0");
      return get(url)
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (html.trim()) appendMessages(html);
        });
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && readPending) markRead();
  });

  /* -- the event stream ---------------------------------------------------------------- */

  function parse(event) {
    try {
      return JSON.parse(event.data) || {};
    } catch (e) {
      return {};
    }
  }

  function catchUp() {
    // (Re)connected: fetch whatever may have happened while the stream was not there.
    refreshCounts();
    refreshList("conversations");
    refreshList("invitations");
    fetchNewMessages();
  }

  function connect() {
    if (!streamUrl || !window.EventSource) return;
    var source = new EventSource(streamUrl);
    source.addEventListener("ready", catchUp);
    source.addEventListener("message", function (event) {
      var data = parse(event);
      if (data.conversation && data.conversation === openConversationId()) {
        // The read that follows refreshes the counts and the list, without a flash
        // of "unread" for the conversation that is open.
        fetchNewMessages();
        if (document.visibilityState === "visible") return;
      }
      refreshCounts();
      refreshList("conversations");
    });
    source.addEventListener("read", function () {
      refreshCounts();
      refreshList("conversations");
    });
    source.addEventListener("folder", function () {
      // A conversation was accepted, declined, archived, muted... (here or elsewhere).
      refreshCounts();
      refreshList("conversations");
    });
    source.addEventListener("notification", refreshCounts);
    source.addEventListener("invitation", function () {
      refreshCounts();
      refreshList("invitations");
    });
    window.addEventListener("pagehide", function () {
      source.close();
    });
  }

  /* -- forms --------------------------------------------------------------------------- */

  // data-confirm="question": ask first (blocking, removing a connection, leaving).
  // A form marked data-once is sent once: a double click does not send twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // Coming back with the Back button shows the page as it was: usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      delete form.dataset.sending;
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
    });
  });

  // "All on this page" of a bulk form ticks every row (the server reads it too,
  // so it works without JavaScript).
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-select-all")) return;
    var form = box.closest("form");
    if (!form) return;
    // form.elements holds the rows inside the form and those tied to it with form="".
    Array.prototype.forEach.call(form.elements, function (row) {
      if (row instanceof HTMLInputElement && row.type === "checkbox" && row.name === "ids") {
        row.checked = box.checked;
      }
    });
  });

  // Ctrl+Enter (Cmd+Enter on a Mac) sends the message.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.closest && event.target.closest("form[data-submit-on-ctrl-enter]");
    if (!form) return;
    event.preventDefault();
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  });

  // "Insert saved reply" (TRIAGE C3): without JavaScript the GET form reloads the
  // page with the reply in the compose box; with it, the reply (filled by the server)
  // goes in at the cursor and what was typed stays.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-insert-reply")) return;
    var option = form.querySelector("select option:checked");
    var box = document.querySelector(".compose-form textarea");
    if (!option || !box) return;
    event.preventDefault();
    var text = option.getAttribute("data-text") || "";
    var start = box.selectionStart || 0, end = box.selectionEnd || 0;
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + text.length;
  });

  if (pane && !pane.dataset.paused) showLatest();
  connect();
})();
