// Build static/geo/region.geojson: Mexico, Guatemala, Belize, Honduras and El Salvador outlines
// from Natural Earth 1:50m (world-atlas), for the offline map. Run once by scripts/vendor-assets.sh:
//   node scripts/vendor-region-geojson.mjs <node_modules dir> <output file>
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [modules, output] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(modules), "noop.js"));
const topojson = require("topojson-client");
const world = JSON.parse(readFileSync(path.join(modules, "world-atlas/countries-50m.json"), "utf8"));

// ISO 3166-1 numeric codes: Mexico, Guatemala, Belize, Honduras, El Salvador.
const WANTED = { "484": "MX", "320": "GT", "084": "BZ", "340": "HN", "222": "SV" };

// Four decimals (~11 m) is plenty for a country outline and keeps the file small.
const round = (coords) =>
  typeof coords[0] === "number" ? coords.map((c) => Math.round(c * 1e4) / 1e4) : coords.map(round);

const all = topojson.feature(world, world.objects.countries);
const features = all.features
  .filter((f) => f.id in WANTED)
  .map((f) => ({
    type: "Feature",
    properties: { iso: WANTED[f.id], name: f.properties.name },
    geometry: { type: f.geometry.type, coordinates: round(f.geometry.coordinates) },
  }));

const geojson = {
  type: "FeatureCollection",
  attribution: "Natural Earth 1:50m via world-atlas 2.0.2 (public domain)",
  features,
};
writeFileSync(output, JSON.stringify(geojson));
console.log(`wrote ${output}: ${features.length} countries`);
