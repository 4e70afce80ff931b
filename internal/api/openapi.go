package api

import (
	_ "embed"
	"net/http"
)

// openAPIJSON is the OpenAPI 3.1 description of the API (and of the routes the daemon adds),
// served at GET /api/openapi.json. TestOpenAPICoversEveryRoute fails when a route or a status
// a handler can answer is missing from it.
//
//go:embed openapi.json
var openAPIJSON []byte

// serveOpenAPI answers GET /api/openapi.json. It needs no token: the document describes the
// API and holds no secret.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIJSON)
}
