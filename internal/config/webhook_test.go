package config

import (
	"strings"
	"testing"
)

// TestWebhookIsCheckedByTheSendersRule: a [[webhook]] is checked at start by the rule its sender
// uses (webhook.New), so what the file accepts is what is delivered to, and a bad URL, event
// filter or secret stops confd at start naming the webhook.
func TestWebhookIsCheckedByTheSendersRule(t *testing.T) {
	good := []Webhook{
		{URL: "https://hooks.example.net/confd"},
		{URL: "HTTP://hooks.example.net:8080/x", Events: []string{"join", "leave"}}, // a scheme is case-insensitive (RFC 3986 3.1)
		{URL: "http://[2001:db8::1]/hook", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	}
	for _, w := range good {
		c := Default()
		c.Webhooks = []Webhook{w}
		if err := c.Validate(); err != nil {
			t.Errorf("%+v refused: %v", w, err)
		}
	}
	for name, w := range map[string]Webhook{
		"no host":       {URL: "http://"},
		"relative":      {URL: "/hook"},
		"other scheme":  {URL: "ftp://hooks.example.net/"},
		"unknown event": {URL: "https://hooks.example.net/", Events: []string{"joined"}},
		"bad secret":    {URL: "https://hooks.example.net/", Secret: "whsec_!!!"},
	} {
		c := Default()
		c.Webhooks = []Webhook{{URL: "https://ok.example.net/"}, w}
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "webhook 2") {
			t.Errorf("%s: %v, want an error naming webhook 2", name, err)
		}
	}
}
