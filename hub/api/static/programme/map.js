// The map of a project's or a source's entities (/programme/projects/{id}, /programme/sources/{id}).
// Reads the GeoJSON of /api/v1/entities page by page (next_cursor) and draws it with Leaflet.
// No outside requests unless the page was asked for OpenStreetMap tiles (data-tiles="osm").
(function () {
  "use strict";
  var element = document.getElementById("map");
  var status = document.getElementById("map-status");
  if (!element || !window.L) {
    return;
  }
  var tiles = element.getAttribute("data-tiles") === "osm";
  var limit = parseInt(element.getAttribute("data-limit") || "5000", 10);
  // The cooperation area: Corsica, Sardinia, Tuscany's coast, Liguria, Alpes-Maritimes and Var.
  var area = L.latLngBounds([38.8, 5.6], [44.7, 11.2]);

  L.Icon.Default.imagePath = "/static/leaflet/images/";
  var map = L.map(element, { attributionControl: tiles, worldCopyJump: false });
  if (tiles) {
    L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 19,
      attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    }).addTo(map);
  } else {
    // A graticule every degree, so that the plain background still shows where things are.
    var lines = { color: "#9fb8c4", weight: 1, interactive: false };
    for (var lat = 30; lat <= 52; lat += 1) {
      L.polyline([[lat, -6], [lat, 24]], lines).addTo(map);
    }
    for (var lon = -6; lon <= 24; lon += 1) {
      L.polyline([[30, lon], [52, lon]], lines).addTo(map);
    }
  }
  map.fitBounds(area);

  function popup(feature) {
    var box = document.createElement("div");
    var name = document.createElement("div");
    name.className = "popup-name";
    name.textContent = (feature.properties && feature.properties.name) || feature.id;
    var link = document.createElement("a");
    link.href = "/api/v1/entities/" + String(feature.id).split("/").map(encodeURIComponent).join("/");
    link.textContent = feature.id;
    box.appendChild(name);
    box.appendChild(link);
    return box;
  }

  var layer = L.geoJSON(null, {
    style: { color: "#0b4f6c", weight: 3 },
    onEachFeature: function (feature, drawn) {
      drawn.bindPopup(function () { return popup(feature); });
    }
  }).addTo(map);

  var total = 0;
  var drawn = 0;
  var markers = 0;

  function located(feature) {
    // An entity with a point but no geometry still gets a marker.
    if (feature.geometry) {
      return feature;
    }
    var p = feature.properties || {};
    if (typeof p.lat === "number" && typeof p.lon === "number") {
      return { type: "Feature", id: feature.id, properties: p,
               geometry: { type: "Point", coordinates: [p.lon, p.lat] } };
    }
    return null;
  }

  function say(text) {
    status.textContent = text;
    status.setAttribute("data-drawn", String(drawn));
    status.setAttribute("data-markers", String(markers));
  }

  function load(url) {
    fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) {
          return response.text().then(function (body) {
            throw new Error("HTTP " + response.status + ": " + body.slice(0, 300));
          });
        }
        return response.json();
      })
      .then(function (page) {
        total = page.total;
        page.features.forEach(function (feature) {
          var shown = located(feature);
          if (shown && drawn < limit) {
            layer.addData(shown);
            drawn += 1;
            if (shown.geometry.type === "Point") {
              markers += 1;
            }
          }
        });
        if (page.next_cursor && drawn < limit) {
          var base = element.getAttribute("data-geojson");
          load(base + "&cursor=" + encodeURIComponent(page.next_cursor));
          return;
        }
        if (drawn > 0) {
          map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 12 });
        }
        var text = total + " entities, " + drawn + " on the map (" + markers + " points)";
        if (drawn >= limit && total > drawn) {
          text += "; the map shows the first " + limit;
        }
        element.setAttribute("data-loaded", "true");
        say(text + ".");
      })
      .catch(function (error) {
        element.setAttribute("data-loaded", "error");
        say("The entities could not be loaded: " + error.message);
      });
  }

  load(element.getAttribute("data-geojson"));
})();
