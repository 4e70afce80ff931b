package bench

import (
	"time"

	"confd/bridge"
)

// headerWriter writes one outgoing leg's RTP header in front of a payload the leg may share with
// its whole output group (RFC 3550 section 5.1).
type headerWriter interface {
	Packet(buf, payload []byte, marker bool, samples int, now time.Time) (int, error)
}

// newHeaderWriter returns the RTP header writer of one leg: the bridge's own RTPSender, so that
// the benchmarks time the code a real leg runs.
func newHeaderWriter(pt uint8) headerWriter { return bridge.NewRTPSender(pt) }
