/* Offline map of places: Leaflet with no tile layer. The country outlines come from
 * static/geo/region.geojson and the points from crossings:map-data (high and medium confidence
 * only). Text is put into the DOM with textContent, never as HTML. */
(function () {
  "use strict";

  var COLOURS = { crossing: "#c0392b", transit: "#1f6fb2", shelter: "#2e8b57" };
  var COUNTRY_FILL = { MX: "#f4f1e8", GT: "#e9efe1" };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(
      function (response) {
        if (!response.ok) { throw new Error(url + ": " + response.status); }
        return response.json();
      }
    );
  }

  function popupFor(point) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = point.url;
    link.className = "fw-semibold";
    link.textContent = point.code + " · " + point.name;
    var detail = document.createElement("div");
    detail.className = "small text-body-secondary";
    detail.textContent = point.kind + " · " + point.confidence;
    box.appendChild(link);
    box.appendChild(detail);
    return box;
  }

  function drawOutline(map, geojson) {
    return L.geoJSON(geojson, {
      interactive: false,
      style: function (feature) {
        return {
          color: "#6b6b6b", weight: 1,
          fillColor: COUNTRY_FILL[feature.properties.iso] || "#f7f7f7", fillOpacity: 1
        };
      }
    }).addTo(map);
  }

  function drawPoints(map, points) {
    var layer = L.featureGroup();
    points.forEach(function (point) {
      L.circleMarker([point.lat, point.lon], {
        radius: 8, weight: 2, color: "#222", fillOpacity: 0.9,
        fillColor: COLOURS[point.group] || "#555", className: "place-marker place-marker-" + point.group
      }).bindPopup(popupFor(point)).bindTooltip(point.code).addTo(layer);
    });
    return layer.addTo(map);
  }

  function showError(element) {
    var alert = document.createElement("div");
    alert.className = "alert alert-danger m-2";
    alert.setAttribute("role", "alert");
    alert.textContent = element.dataset.errorText;
    element.replaceChildren(alert);
  }

  function init() {
    var element = document.getElementById("place-map");
    if (!element || typeof L === "undefined") { return; }
    var map = L.map(element, { zoomSnap: 0.5, attributionControl: true }).setView([16.5, -93.5], 6);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Natural Earth");
    Promise.all([getJSON(element.dataset.outlineUrl), getJSON(element.dataset.pointsUrl)])
      .then(function (results) {
        drawOutline(map, results[0]);
        var points = drawPoints(map, results[1].points);
        if (results[1].points.length) { map.fitBounds(points.getBounds().pad(0.15), { maxZoom: 9 }); }
        element.dataset.ready = "true";
      })
      .catch(function () { showError(element); });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
