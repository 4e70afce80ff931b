package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"confd/problem"
)

// TestWrongMethodIs405WithAllow: a method a path does not take is 405 with the methods it does
// (RFC 9110 section 15.5.6), not 404; a path with no route at all is still 404.
func TestWrongMethodIs405WithAllow(t *testing.T) {
	_, h, _, _ := setup(t, testToken)
	for _, c := range []struct{ method, path, allow string }{
		{"POST", "/api/rooms", "GET, HEAD"},
		{"PATCH", "/api/rooms/r", "GET, HEAD, PUT, DELETE"},
		{"GET", "/api/rooms/r/mute-all", "POST"},
		{"POST", "/api/rooms/r/participants/x", "PATCH, DELETE"},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 405 || w.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", c.method, c.path, w.Code, w.Header().Get("Allow"), c.allow)
		}
	}
	if code, _, _ := call(t, h, "GET", "/api/nothing/here", "", ""); code != 404 {
		t.Errorf("unknown path: %d, want 404", code)
	}
	// The 405 is no way around the token.
	if code, _, _ := call(t, h, "POST", "/api/rooms", "application/json", "{}", "Authorization", ""); code != 401 {
		t.Errorf("wrong method without a token: %d, want 401", code)
	}
}

// TestErrorsAreProblemDetails: every refusal is an RFC 9457 problem document that keeps the
// "error" member the web page reads.
func TestErrorsAreProblemDetails(t *testing.T) {
	_, h, _, _ := setup(t, testToken)
	for _, c := range []struct {
		method, path, ctype, body string
		hdr                       []string
		status                    int
	}{
		{"GET", "/api/rooms", "", "", []string{"Authorization", ""}, 401},
		{"GET", "/api/rooms/nope", "", "", nil, 404},
		{"PUT", "/api/rooms/r", "text/plain", "{}", nil, 415},
		{"PUT", "/api/rooms/r", "application/json", `{"top_k": 99}`, nil, 400},
		{"DELETE", "/api/rooms/r", "application/json", "", nil, 404},
	} {
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		for i := 0; i+1 < len(c.hdr); i += 2 {
			req.Header.Del(c.hdr[i])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Errorf("%s %s: body %q: %v", c.method, c.path, w.Body, err)
		}
		if w.Code != c.status || w.Header().Get("Content-Type") != problem.ContentType {
			t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path, w.Code, w.Header().Get("Content-Type"), c.status, problem.ContentType)
		}
		if m["type"] != "about:blank" || m["title"] != http.StatusText(c.status) || m["status"] != float64(c.status) ||
			m["detail"] == "" || m["detail"] != m["error"] {
			t.Errorf("%s %s: problem %v", c.method, c.path, m)
		}
	}
}
