/* Draws "What my posts brought": yield and reach of the best posts (no inline script: CSP).
 * Numbers and labels use the page's language, like the numbers rendered by the server. */
(function () {
  "use strict";
  var source = document.getElementById("yield-data");
  var canvas = document.getElementById("yield-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var lang = document.documentElement.lang || undefined;
  var number = new Intl.NumberFormat(lang);
  function tick(value) { return number.format(value); }
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.text.yield, data: data.yield, backgroundColor: "#057642", xAxisID: "x", maxBarThickness: 16 },
        { label: data.text.impressions, data: data.impressions, backgroundColor: "rgba(10, 102, 194, 0.35)", xAxisID: "x1", maxBarThickness: 16 },
      ],
    },
    options: {
      locale: lang,
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { beginAtZero: true, position: "bottom", ticks: { precision: 0, callback: tick }, title: { display: true, text: data.text.yield_axis } },
        x1: { type: "logarithmic", position: "top", grid: { drawOnChartArea: false }, ticks: { callback: function (v) { var l = Math.log10(v); return Math.abs(l - Math.round(l)) < 1e-9 ? tick(v) : ""; } }, title: { display: true, text: data.text.impressions_axis } },
        y: { ticks: { autoSkip: false, callback: function (i) { var s = data.labels[i] || ""; var max = canvas.clientWidth < 500 ? 14 : 24; return s.length > max ? s.slice(0, max - 1) + "…" : s; } } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });
})();
