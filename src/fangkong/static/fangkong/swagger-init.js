/* Starts the vendored Swagger UI on /api/v1/docs (a file, not an inline script: CSP). */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("swagger-settings").textContent);
  var csrf = document.body.dataset.csrfToken;
  config.dom_id = "#swagger-ui";
  config.presets = [window.SwaggerUIBundle.presets.apis];
  if (csrf) {
    config.requestInterceptor = function (request) {
      request.headers["X-CSRFToken"] = csrf;
      return request;
    };
  }
  window.SwaggerUIBundle(config);
})();
