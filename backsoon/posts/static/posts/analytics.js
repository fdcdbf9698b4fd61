/* Draws the post analytics charts from the JSON data on the page (no inline script: CSP).
 * One chart per canvas with a data-chart attribute: "hour" (the first three days) or "day". */
(function () {
  "use strict";
  var source = document.getElementById("analytics-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  // One number format per page: the page's language, as the server formats the cards;
  // times in the member's profile time zone, as everywhere else.
  var lang = document.documentElement.lang || undefined;
  var number = new Intl.NumberFormat(lang);
  var zone = data.timezone || undefined;
  function tick(value) { return number.format(value); }

  function label(iso, granularity) {
    var at = new Date(iso);
    if (granularity === "hour") {
      return at.toLocaleString(lang, { timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit" });
    }
    return at.toLocaleDateString(lang, { timeZone: zone, weekday: "short", day: "numeric", month: "short" });
  }

  function draw(canvas) {
    var granularity = canvas.getAttribute("data-chart");
    var series = data[granularity];
    if (!series || !series.labels.length) {
      return;
    }
    new window.Chart(canvas, {
      data: {
        labels: series.labels.map(function (iso) { return label(iso, granularity); }),
        datasets: [
          {
            type: "line",
            label: data.text.impressions,
            data: series.impressions,
            borderColor: "#0a66c2",
            backgroundColor: "rgba(10, 102, 194, 0.12)",
            fill: true,
            tension: 0.25,
            pointRadius: series.labels.length > 24 ? 0 : 3,
            yAxisID: "y",
          },
          {
            type: "bar",
            label: data.text.reactions,
            data: series.reactions,
            backgroundColor: "#b45309",
            maxBarThickness: 18,
            yAxisID: "y1",
          },
        ],
      },
      options: {
        locale: lang,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: {
            ticks: { autoSkip: true, maxRotation: 0, maxTicksLimit: 7 },
            title: { display: true, text: granularity === "hour" ? data.text.hour_axis : data.text.day_axis },
          },
          y: {
            beginAtZero: true,
            position: "left",
            ticks: { precision: 0, callback: tick },
            title: { display: true, text: data.text.count_axis },
          },
          y1: {
            beginAtZero: true,
            position: "right",
            grid: { drawOnChartArea: false },
            ticks: { precision: 0, callback: tick },
            title: { display: true, text: data.text.reactions_axis },
          },
        },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  function drawTypes(canvas) {
    var types = data.by_type;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: types.labels,
        datasets: [{ label: data.text.reactions, data: types.counts, backgroundColor: "#b45309", maxBarThickness: 28 }],
      },
      options: {
        locale: lang,
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0, callback: tick }, title: { display: true, text: data.text.reactions_axis } },
        },
        plugins: { legend: { display: false } },
      },
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-types-chart]"), drawTypes);
})();
