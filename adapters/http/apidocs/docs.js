// Renders the OpenAPI document with Swagger UI. It lives in its own file because the page's
// Content-Security-Policy allows no inline script.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
    // The public validator badge would load an image from another origin.
    validatorUrl: null,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 1,
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
});
