package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTooLargeBodySaysTheLimitThatTripped: a body over the server's max_body_bytes (smaller
// than the API's own 1 MiB) is refused 413 naming that limit; it named 1048576 whichever
// limit had tripped.
func TestTooLargeBodySaysTheLimitThatTripped(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("PUT", "/api/rooms/r", strings.NewReader(`{"pin":"`+strings.Repeat("1", 100)+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Body = http.MaxBytesReader(w, r.Body, 10) // as the server's limit wraps every body
	var v map[string]any
	if readJSON(w, r, &v) || w.Code != 413 || !strings.Contains(w.Body.String(), "larger than 10 bytes") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}
