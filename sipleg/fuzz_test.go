package sipleg

import (
	"strings"
	"testing"
	"time"

	"confd/testkit"
)

// FuzzInvite sends an arbitrary SDP body in an otherwise valid INVITE to a running server:
// whatever the body, confd never panics and always gives a final answer (200 with an answer,
// 488 with a Warning, 400, 415...), and a call it accepted is hung up cleanly. The committed
// seeds (testdata/fuzz/FuzzInvite) hold offers of every codec, direction, rtcp-mux, extra and
// rejected m-lines, and the SDP parser's own fuzz finds.
func FuzzInvite(f *testing.F) {
	f.Add([]byte(sdpOffer(40000, 1, pcmuAudio)))
	f.Add([]byte(sdpOffer(40000, 1, opusAudio, videoLine)))
	f.Add([]byte(sdpOffer(40000, 1, g722Audio+sendonlyAt)))
	f.Add([]byte(sdpOffer(40000, 1, g729Audio)))
	f.Add([]byte("v=0\r\n"))
	f.Add([]byte("garbage"))
	ts := startServer(f, Config{}, nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) == 0 || len(body) > 8000 {
			t.Skip("a body-less INVITE is a late offer (TestLateOfferHoldAndCodecChange); UDP holds 8 kB at most here")
		}
		c := newRawClient(t, "udp", ts)
		d := c.newDialog()
		res := d.request("INVITE", "fuzz", string(body)) // fails the test without a final answer
		switch {
		case res.StatusCode == 200:
			if !strings.Contains(string(res.Body()), "m=audio") {
				t.Fatalf("200 without an audio answer:\n%s", res.Body())
			}
			d.ack("")
			if res := d.request("BYE", "fuzz", ""); res.StatusCode != 200 && res.StatusCode != 481 {
				t.Fatalf("BYE answered %d", res.StatusCode)
			}
		case res.StatusCode < 400:
			t.Fatalf("INVITE answered %d %s", res.StatusCode, res.Reason)
		case res.StatusCode == 488 && res.GetHeader("Warning") == nil:
			t.Fatal("488 without a Warning")
		}
	})
	if !testkit.WaitFor(5*time.Second, func() bool { return ts.Calls() == 0 }) {
		f.Errorf("%d calls left after the fuzz inputs", ts.Calls())
	}
}
