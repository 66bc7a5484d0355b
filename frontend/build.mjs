// Builds dist/: the council stylesheet compiled from council.scss and GOV.UK Frontend's JavaScript,
// served by the app at /assets. No images: GOV.UK's icons carry the crown.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { compile } from "sass";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist", { recursive: true });
const css = compile("council.scss", { loadPaths: ["node_modules"], style: "compressed", quietDeps: true, silenceDeprecations: ["import"] });
writeFileSync("dist/council.css", css.css);
cpSync("node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js", "dist/govuk-frontend.min.js");
cpSync("attendance.js", "dist/attendance.js");
cpSync("questionnaire.js", "dist/questionnaire.js");
cpSync("init.js", "dist/init.js");
cpSync("setting-autocomplete.js", "dist/setting-autocomplete.js");
cpSync("node_modules/accessible-autocomplete/dist/accessible-autocomplete.min.js", "dist/accessible-autocomplete.min.js");
cpSync("node_modules/accessible-autocomplete/dist/accessible-autocomplete.min.css", "dist/accessible-autocomplete.min.css");
writeFileSync("dist/.built", new Date().toISOString() + "\n");
console.log(`built dist/council.css (${css.css.length} bytes) and dist/govuk-frontend.min.js`);
