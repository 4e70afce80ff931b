package webhook

import (
	"fmt"
	"net/url"
	"slices"

	"confd/bridge"
)

// Endpoint is one [[webhook]] table of confd's config file. The file's type is this package's
// so that the config checks it at start by the rule New applies (Check): whatever the file
// accepts is delivered to.
type Endpoint struct {
	// URL is the endpoint, an absolute http or https URL.
	URL string `toml:"url"`
	// Secret signs each request (Standard Webhooks: "whsec_" + base64, or any string).
	Secret string `toml:"secret"`
	// SecretFile holds Secret on its first line (see "Secrets" in the config package).
	SecretFile string `toml:"secret_file"`
	// Events limits the event types sent; empty means all.
	Events []string `toml:"events"`
}

// Check reports what New would refuse in e: a URL that is not an absolute http(s) URL, an event
// type the bridge does not publish, a "whsec_" secret that is not one (ErrBadConfig).
func (e Endpoint) Check() error {
	_, _, _, err := parseEndpoint(e.URL, e.Events, e.Secret)
	return err
}

// FromConfig turns the config file's webhooks into Configs with the default limits.
func FromConfig(hooks []Endpoint) []Config {
	out := make([]Config, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, Config{URL: h.URL, Secret: h.Secret, Events: h.Events})
	}
	return out
}

// parseEndpoint is the one rule for an endpoint's URL, event filter (nil for all) and secret
// (its HMAC key, see Key).
func parseEndpoint(rawURL string, events []string, secret string) (*url.URL, map[bridge.EventType]bool, []byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return nil, nil, nil, fmt.Errorf("%w: url %q is not an absolute http(s) URL", ErrBadConfig, rawURL)
	}
	var filter map[bridge.EventType]bool
	if len(events) > 0 {
		filter = map[bridge.EventType]bool{}
		for _, name := range events {
			t := bridge.EventType(name)
			if !slices.Contains(bridge.EventTypes, t) {
				return nil, nil, nil, fmt.Errorf("%w: unknown event type %q (want one of %v)", ErrBadConfig, name, bridge.EventTypes)
			}
			filter[t] = true
		}
	}
	key, err := Key(secret)
	if err != nil {
		return nil, nil, nil, err
	}
	return u, filter, key, nil
}
