package config

import (
	"fmt"

	"confd/internal/guard"
)

// Forwarders is [forwarders]: where the API may send a room's audio as plain RTP (POST
// /api/rooms/ROOM/forwarders). A forwarder sends to an address that never proved it wants the
// packets (no offer, no answer, no ICE), so only the destinations listed here are allowed, and
// with none listed forwarders are off.
type Forwarders struct {
	// Allow lists the allowed destinations: "PREFIX" (every port of the addresses in it),
	// "PREFIX:PORT" or "PREFIX:LOW-HIGH", where PREFIX is an address or a CIDR prefix
	// ("127.0.0.1", "10.0.0.0/8"; an IPv6 address in brackets when it has a port:
	// "[::1]:5004"). Empty means forwarders are disabled.
	Allow []string `toml:"allow"`
	// PerRoom is how many forwarders one room may have; 0 means rtpfwd.DefaultPerRoom (4).
	PerRoom int `toml:"per_room"`
}

// Destinations parses Allow; Validate has checked it.
func (f Forwarders) Destinations() ([]guard.Destination, error) {
	out := make([]guard.Destination, 0, len(f.Allow))
	for _, a := range f.Allow {
		d, err := parseForwardDest(a)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (f Forwarders) validate() error {
	if f.PerRoom < 0 {
		return fmt.Errorf("forwarders.per_room %d: must be ≥ 0", f.PerRoom)
	}
	_, err := f.Destinations()
	return err
}

// parseForwardDest parses one allow entry (guard.ParseDestination), naming the setting in its
// error.
func parseForwardDest(s string) (guard.Destination, error) {
	d, err := guard.ParseDestination(s)
	if err != nil {
		return guard.Destination{}, fmt.Errorf("forwarders.allow %w", err)
	}
	return d, nil
}
