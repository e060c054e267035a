/*
 * swagger-init.js: starts Swagger UI on the /docs page (a file of its own
 * rather than an inline script, so that the page's Content-Security-Policy
 * can forbid inline scripts).
 *
 * validatorUrl is null: by default Swagger UI would load a badge image from
 * an online validator, which an offline network cannot reach.
 */
"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 1,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
