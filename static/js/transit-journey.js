/* The offline map of one person's journey: the same Leaflet, region outline and marker colours
 * as the places map (static/js/places-map.js), with the visited places numbered in order and the
 * travelled line between them. Data comes from json_script blocks; text goes in with textContent. */
(function () {
  "use strict";

  var COLOURS = { crossing: "#c0392b", transit: "#1f6fb2", shelter: "#2e8b57" };
  var COUNTRY_FILL = { MX: "#f4f1e8", GT: "#e9efe1" };

  function readJSON(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : [];
  }

  function outline(map, url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(url + ": " + response.status); }
      return response.json();
    }).then(function (geojson) {
      L.geoJSON(geojson, {
        interactive: false,
        style: function (feature) {
          return { color: "#6b6b6b", weight: 1, fillColor: COUNTRY_FILL[feature.properties.iso] || "#f7f7f7", fillOpacity: 1 };
        }
      }).addTo(map).bringToBack();
    });
  }

  function label(point) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = point.url;
    link.textContent = point.step + ". " + point.code + " · " + point.name;
    box.appendChild(link);
    return box;
  }

  function draw(map, points, path) {
    var layer = L.featureGroup();
    if (path.length > 1) { L.polyline(path, { color: "#12355b", weight: 3, dashArray: "6 6" }).addTo(layer); }
    points.forEach(function (point) {
      L.circleMarker([point.lat, point.lon], {
        radius: 9, weight: 2, color: "#222", fillOpacity: 0.9, fillColor: COLOURS[point.group] || "#555",
        className: "place-marker journey-marker"
      }).bindPopup(label(point)).bindTooltip(String(point.step), { permanent: true, direction: "top" }).addTo(layer);
    });
    return layer.addTo(map);
  }

  function init() {
    var element = document.getElementById("journey-map");
    if (!element || typeof L === "undefined") { return; }
    var points = readJSON("journey-points");
    var path = readJSON("journey-path");
    var map = L.map(element, { zoomSnap: 0.5 }).setView([16.5, -93.5], 6);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Natural Earth");
    var layer = draw(map, points, path);
    if (points.length) { map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 8, animate: false }); }
    outline(map, element.dataset.outlineUrl)
      .then(function () { element.dataset.ready = "true"; })
      .catch(function () {
        var alert = document.createElement("div");
        alert.className = "alert alert-warning small m-2";
        alert.textContent = element.dataset.errorText;
        element.appendChild(alert);
      });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
