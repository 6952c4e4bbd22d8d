/* Reports dashboard: Chart.js 4 (vendored) charts and the offline Leaflet map of places sized
 * by flow, all from reports:dashboard-data (aggregates computed in SQL, small counts already
 * hidden: a hidden value arrives as null and is drawn as a gap). The map uses the same
 * static/geo/region.geojson outline and no tile layer as the places map. Text goes into the DOM
 * with textContent only. */
(function () {
  "use strict";

  var BLUE = "#1f6fb2", RED = "#c0392b", GREEN = "#2e8b57";

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  function hiddenTooltip(root) {
    return {
      callbacks: {
        label: function (ctx) {
          return ctx.dataset.label + ": " + (ctx.raw === null ? root.dataset.hiddenText : ctx.raw);
        }
      }
    };
  }

  function chart(id, config, root) {
    var canvas = document.getElementById(id);
    config.options = Object.assign({ responsive: true, animation: false,
      plugins: { legend: { display: config.type === "bar" && config.data.datasets.length > 1 }, tooltip: hiddenTooltip(root) } },
      config.options || {});
    return new Chart(canvas, config);
  }

  function bars(id, series, label, colour, root) {
    return chart(id, {
      type: "bar",
      data: { labels: series.map(function (s) { return s.label; }),
              datasets: [{ label: label, data: series.map(function (s) { return s.value; }), backgroundColor: colour }] },
      options: { indexAxis: series.length > 8 ? "y" : "x" }
    }, root);
  }

  function drawCharts(data, root) {
    chart("chart-time", {
      type: "line",
      data: { labels: data.over_time.map(function (s) { return s.label; }),
              datasets: [{ label: data.labels.people, data: data.over_time.map(function (s) { return s.value; }),
                           borderColor: BLUE, backgroundColor: BLUE, pointRadius: 1, spanGaps: false }] }
    }, root);
    chart("chart-pyramid", {
      type: "bar",
      data: { labels: data.pyramid.brackets, datasets: [
        { label: data.labels.female, data: data.pyramid.female.map(function (v) { return v === null ? null : -v; }), backgroundColor: RED },
        { label: data.labels.male, data: data.pyramid.male, backgroundColor: BLUE }] },
      options: { indexAxis: "y", plugins: { legend: { display: true }, tooltip: { callbacks: { label: function (ctx) {
        return ctx.dataset.label + ": " + (ctx.raw === null ? root.dataset.hiddenText : Math.abs(ctx.raw)); } } } },
        scales: { x: { stacked: true, ticks: { callback: function (v) { return Math.abs(v); } } }, y: { stacked: true, reverse: true } } }
    }, root);
    bars("chart-place", data.by_place, data.labels.people, BLUE, root);
    bars("chart-nationality", data.by_nationality, data.labels.people, GREEN, root);
    bars("chart-vulnerability", data.vulnerabilities, data.labels.people, RED, root);
  }

  function drawMap(element, outline, points) {
    element.style.height = "360px";
    var map = L.map(element, { zoomSnap: 0.5, attributionControl: true }).setView([16.5, -92.5], 6);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Natural Earth");
    L.geoJSON(outline, { interactive: false, style: { color: "#6b6b6b", weight: 1, fillColor: "#f4f1e8", fillOpacity: 1 } }).addTo(map);
    var biggest = Math.max.apply(null, points.map(function (p) { return p.value || 0; }).concat([1]));
    var layer = L.featureGroup();
    points.forEach(function (p) {
      var radius = 4 + 26 * Math.sqrt((p.value || 0) / biggest);
      var tip = document.createElement("span");
      tip.textContent = p.code + " · " + p.name + ": " + (p.value === null ? element.dataset.hiddenText : p.value);
      L.circleMarker([p.lat, p.lon], { radius: radius, weight: 1, color: "#222", fillColor: RED, fillOpacity: 0.55,
        className: "flow-marker" }).bindTooltip(tip).addTo(layer);
    });
    layer.addTo(map);
    if (points.length) { map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 8 }); }
  }

  function note(root, data) {
    var element = document.getElementById("dashboard-note");
    element.textContent = element.dataset.template
      .replace("%(total)s", data.total === null ? "<" + data.k : data.total).replace("%(k)s", data.k);
  }

  function showError(root) {
    var alert = document.createElement("div");
    alert.className = "alert alert-danger";
    alert.setAttribute("role", "alert");
    alert.textContent = root.dataset.errorText;
    root.prepend(alert);
  }

  function init() {
    var root = document.getElementById("dashboard");
    if (!root || typeof Chart === "undefined" || typeof L === "undefined") { return; }
    Promise.all([getJSON(root.dataset.url), getJSON(root.dataset.outlineUrl)]).then(function (results) {
      var data = results[0];
      note(root, data);
      root.dataset.hiddenText = root.dataset.hiddenText || "";
      drawCharts(data, root);
      var mapElement = document.getElementById("dashboard-map");
      mapElement.dataset.hiddenText = root.dataset.hiddenText;
      drawMap(mapElement, results[1], data.map);
      root.dataset.ready = "true";
    }).catch(function () { showError(root); });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
