package api

import (
	"net/http/httptest"
	"strconv"
	"testing"

	"confd/bridge"
)

// TestDrainingRefusalCarriesRetryAfter: the API answers a draining bridge as every leg does,
// 503 with Retry-After (bridge.DrainingRetryAfter); it sent none, where SIP and WHIP sent 60.
func TestDrainingRefusalCarriesRetryAfter(t *testing.T) {
	w := httptest.NewRecorder()
	writeBridgeError(w, bridge.ErrDraining)
	if w.Code != 503 || w.Header().Get("Retry-After") != strconv.Itoa(bridge.DrainingRetryAfter) {
		t.Fatalf("%d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}
