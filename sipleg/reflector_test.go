package sipleg

import (
	"fmt"
	"testing"
	"time"
)

// TestBrokenRequestsAreAnsweredWithinTheSourcesBudget: requests the SIP rules refuse (here a
// SIP version confd does not speak: 505) are answered to their source only within the same
// per-source budget as the admission's refusals. Over UDP the source may be forged, and
// unlimited answers made confd a reflector: 40 broken datagrams drew 40 answers.
func TestBrokenRequestsAreAnsweredWithinTheSourcesBudget(t *testing.T) {
	t.Parallel()
	const rate = 5 // answers per second; a burst of 2·rate
	ts := startServer(t, Config{Limits: Limits{InviteRate: 1000, RequestRate: rate, CallsPerSource: 1000, PendingPerSource: 1000}}, nil)
	c := newRawClient(t, "udp", ts)
	const sent = 40
	start := time.Now()
	for i := range sent {
		c.send(fmt.Appendf(nil, "OPTIONS sip:confd@%s SIP/7.0\r\nVia: SIP/7.0/UDP %s;branch=z9hG4bK-bad%d\r\n"+
			"From: <sip:a@127.0.0.1>;tag=x\r\nTo: <sip:confd@127.0.0.1>\r\nCall-ID: bad%d\r\nCSeq: 1 OPTIONS\r\n"+
			"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n", c.srv, c.localAddr(), i, i))
	}
	answered := 0
	for c.read(500*time.Millisecond) != nil {
		answered++
	}
	// The burst, and what the rate refilled while the datagrams were sent and read.
	most := 2*rate + int(time.Since(start).Seconds()*rate) + 1
	if answered == 0 || answered > most {
		t.Fatalf("%d broken requests drew %d answers, want 1 to %d", sent, answered, most)
	}
	if st := ts.AdmissionStats(); st.Dropped == 0 {
		t.Errorf("stats %+v: the unanswered refusals are not counted as dropped", st)
	}
}
