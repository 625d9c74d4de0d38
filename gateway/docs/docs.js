// The tsforge REST API page: Swagger UI over the edge's own /openapi.json. "Authorize"
// takes a bearer token (tsforge token --tenant NAME); "Try it out" calls this origin.
window.addEventListener("load", () => {
  if (typeof SwaggerUIBundle !== "function") {
    document.getElementById("swagger-ui").textContent =
      "Swagger UI is not installed here: run `make setup` (it copies npm's swagger-ui-dist), " +
      "or read /openapi.json directly.";
    return;
  }
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
  });
});
