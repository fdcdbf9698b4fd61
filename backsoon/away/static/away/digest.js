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
  // Messages and invitations as bars (left axis); reactions and comments, often a
  // hundred times more, as lines on their own axis so the bars stay readable.
  var datasets = [
    { type: "bar", label: data.text.messages, data: data.messages, backgroundColor: colours.messages, maxBarThickness: 18, stack: "people", yAxisID: "y" },
    { type: "bar", label: data.text.invitations, data: data.invitations, backgroundColor: colours.invitations, maxBarThickness: 18, stack: "people", yAxisID: "y" },
    { type: "line", label: data.text.reactions, data: data.reactions, borderColor: colours.reactions, backgroundColor: colours.reactions, tension: 0.25, yAxisID: "y1" },
    { type: "line", label: data.text.comments, data: data.comments, borderColor: colours.comments, backgroundColor: colours.comments, tension: 0.25, yAxisID: "y1" },
  ];
  function tick(v) { return number.format(v); }
  new window.Chart(canvas, {
    data: { labels: data.days.map(day), datasets: datasets },
    options: {
      locale: lang,
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked: true, ticks: { autoSkip: true, maxRotation: 0, maxTicksLimit: 8 } },
        y: { stacked: true, beginAtZero: true, position: "left", ticks: { precision: 0, callback: tick } },
        y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false }, ticks: { precision: 0, callback: tick } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
})();
