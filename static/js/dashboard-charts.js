/* Draws the dashboard charts with Chart.js.
 *
 * Each <canvas data-chart="ID"> names the <script type="application/json" id="ID">
 * that Django's json_script wrote next to it: {type, horizontal, stacked,
 * valueTitle, labels, datasets: [{label, data, format, tone}]}. The same figures
 * are in the table under each chart, so a page without this script loses nothing
 * but the pictures.
 *
 * On the dashboard each chart arrives later, by htmx, in place of its
 * placeholder: charts are drawn as they arrive, and a chart that fails to load
 * says so instead of "Loading" forever.
 */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }

  // The palette of app.css, plus distinct hues for per-person series.
  var NAMED = {
    ok: "#1c7c3a",
    bad: "#b3261e",
    warn: "#c77700",
    accent: "#1f5fbf",
    muted: "#9aa3b2",
  };
  var PALETTE = [
    "#1f5fbf", "#c77700", "#1c7c3a", "#b3261e", "#6d2a83",
    "#00838f", "#8d6e63", "#c2185b", "#5b6474", "#7cb342",
  ];
  var reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  var money = new Intl.NumberFormat(undefined, {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });

  function colour(tone, index) {
    if (typeof tone === "string" && NAMED[tone]) {
      return NAMED[tone];
    }
    return PALETTE[(typeof tone === "number" ? tone : index) % PALETTE.length];
  }

  function format(value, kind) {
    if (value === null || value === undefined) {
      return "—";
    }
    if (kind === "money") {
      return money.format(value);
    }
    if (kind === "percent") {
      return value.toFixed(1) + "%";
    }
    return integer.format(value);
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || canvas.dataset.drawn) {
      return;
    }
    canvas.dataset.drawn = "1";
    // The height rides in data-height, not style="": the Content-Security-Policy
    // refuses inline style attributes, but not element.style set from a script.
    var box = canvas.parentNode;
    if (box && box.dataset && box.dataset.height) {
      box.style.height = box.dataset.height + "px";
    }
    var spec = JSON.parse(source.textContent);
    var line = spec.type === "line";
    var valueFormat = spec.datasets.length ? spec.datasets[0].format : "int";
    var datasets = spec.datasets.map(function (d, i) {
      var c = colour(d.tone, i);
      return {
        label: d.label,
        data: d.data,
        backgroundColor: line ? c + "33" : c,
        borderColor: c,
        borderWidth: line ? 2 : 0,
        pointRadius: line ? 2 : 0,
        fill: line,
        tension: 0.2,
        format: d.format,
      };
    });
    var valueAxis = {
      beginAtZero: true,
      stacked: spec.stacked,
      title: { display: Boolean(spec.valueTitle), text: spec.valueTitle },
      ticks: {
        precision: valueFormat === "int" ? 0 : undefined,
        callback: function (value) {
          return format(value, valueFormat);
        },
      },
    };
    var labelAxis = { stacked: spec.stacked, ticks: { autoSkip: true, maxRotation: 0 } };
    var scales = spec.horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis };

    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: reduceMotion ? false : { duration: 300 },
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (item) {
                var value = spec.horizontal ? item.parsed.x : item.parsed.y;
                return item.dataset.label + ": " + format(value, item.dataset.format);
              },
            },
          },
        },
      },
    });
  }

  function drawSafely(canvas) {
    try {
      draw(canvas);
    } catch (error) {
      var note = document.createElement("p");
      note.className = "error";
      note.textContent = "The chart could not be drawn; the figures are in the table below.";
      canvas.parentNode.replaceWith(note);
      window.console.error(error);
    }
  }

  function drawIn(root) {
    if (root.matches && root.matches("canvas[data-chart]")) {
      drawSafely(root);
    }
    root.querySelectorAll("canvas[data-chart]").forEach(drawSafely);
  }

  function failed(event) {
    var placeholder = event.detail.elt;
    if (!placeholder.classList || !placeholder.classList.contains("panel-body")) {
      return;
    }
    var status = event.detail.xhr && event.detail.xhr.status;
    var message = document.createElement("p");
    message.className = "error";
    // A status, not an alert: when the server is down all ten charts fail at once.
    message.setAttribute("role", "status");
    message.textContent =
      "These figures could not be loaded" +
      (status ? " (the server answered " + status + ")" : " (no answer from the server)") +
      ". Reload the page to try again, or ";
    var own = document.createElement("a");
    own.href = placeholder.getAttribute("hx-get");
    own.textContent = "open them on their own page";
    message.append(own, ".");
    placeholder.replaceChildren(message);
    placeholder.removeAttribute("aria-busy");
  }

  document.addEventListener("htmx:load", function (event) {
    drawIn(event.target);
  });
  document.addEventListener("htmx:responseError", failed);
  document.addEventListener("htmx:sendError", failed);
  drawIn(document);
})();
