package guard

import (
	"net/http/httptest"
	"testing"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		header, token string
		ok            bool
	}{
		{"", "", false},
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true}, // RFC 9110 section 11.1: the scheme in any case
		{"BEARER  abc ", "abc", true},
		{"Bearer ", "", true},
		{"Basic YWJj", "", false},
		{"Bearerabc", "", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		if token, ok := BearerToken(r); token != tc.token || ok != tc.ok {
			t.Errorf("%q: (%q, %v), want (%q, %v)", tc.header, token, ok, tc.token, tc.ok)
		}
	}
}

func TestSecretMatches(t *testing.T) {
	if !SecretMatches("1234", "1234") || SecretMatches("1235", "1234") || SecretMatches("", "") || SecretMatches("12345", "1234") {
		t.Error("SecretMatches")
	}
}
