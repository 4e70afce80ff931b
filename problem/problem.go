// Package problem writes confd's HTTP refusals: an RFC 9457 problem document, the one body of
// every HTTP error confd answers (the control API, WHIP/WHEP, the SIP-over-WebSocket upgrade,
// metrics, the nodes' own endpoints), so that a client reads every refusal the same way
// (docs/SPEC.md "Errors").
//
// The detail is also given as "error", the field confd's clients read before problem documents
// (docs/SPEC.md's `{"error": …}`; the web page reads it).
package problem

import (
	"encoding/json"
	"net/http"
)

// ContentType is the media type of a problem document (RFC 9457 section 3).
const ContentType = "application/problem+json"

// Document is an RFC 9457 problem document.
type Document struct {
	// Type is "about:blank": the status says what went wrong (RFC 9457 section 4.2.1).
	Type string `json:"type"`
	// Title is the status's reason phrase, as about:blank asks.
	Title string `json:"title"`
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Detail says what was wrong with this request.
	Detail string `json:"detail"`
	// Error is Detail again.
	Error string `json:"error"`
}

// New is the document of a refusal with status whose detail is detail.
func New(status int, detail string) Document {
	return Document{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Error: detail}
}

// Write answers status with the problem document whose detail is detail. Headers the refusal
// carries (Retry-After, WWW-Authenticate, Allow) are set on w before.
func Write(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(New(status, detail))
}
