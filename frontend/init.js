// Starts GOV.UK Frontend's components on every page (a file, not an inline script: the
// Content-Security-Policy allows no inline script but the template's one-line js-enabled flag).
import { initAll } from "/assets/govuk-frontend.min.js";

initAll();
