/* The digest's chart: what arrived per day while away (TRIAGE C4). Data from the JSON
 * on the page (no inline script: CSP); the table beside it says the same without JS. */
(function () {
  "use strict";
  var source = document.getElementById("digest-chart-data");
  var canvas = document.getElementById("digest-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  if (!data.days.length) {
    return;
  }
  var lang = document.documentElement.lang || undefined;
  var number = new Intl.NumberFormat(lang);
  function day(iso) {
    // A calendar day of the member's zone: format it as the day it is, at noon UTC.
    return new Date(iso + "T12:00:00Z").toLocaleDateString(lang, { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" });
  }
  var colours = { messages: "#0a66c2", invitations: "#057642", reactions: "#b45309", comments: "#7c3aed" };
  var datasets = ["messages", "invitations", "reactions", "comments"].map(function (kind) {
    return { label: data.text[kind], data: data[kind], backgroundColor: colours[kind], maxBarThickness: 18, stack: "all" };
  });
  new window.Chart(canvas, {
    type: "bar",
    data: { labels: data.days.map(day), datasets: datasets },
    options: {
      locale: lang,
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked: true, ticks: { autoSkip: true, maxRotation: 0, maxTicksLimit: 8 } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0, callback: function (v) { return number.format(v); } } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
})();
