package problem

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	w.Header().Set("Retry-After", "3")
	Write(w, 429, "too many requests from this source")
	if w.Code != 429 || w.Header().Get("Content-Type") != ContentType || w.Header().Get("Retry-After") != "3" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	var d Document
	if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	want := Document{Type: "about:blank", Title: "Too Many Requests", Status: 429, Detail: "too many requests from this source", Error: "too many requests from this source"}
	if d != want {
		t.Errorf("%+v, want %+v", d, want)
	}
}
