package webrtcleg

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/testkit"
	"confd/testkit/pionbrowser"
)

// TestWHIPNameIsCleanedByTheBridge: a ?name= longer than bridge.MaxNameLen, or with a CRLF
// in it, no longer makes WHIP refuse the call (the leg has no name rule of its own): the
// publisher joins under the name the bridge's one rule makes of it.
func TestWHIPNameIsCleanedByTheBridge(t *testing.T) {
	ts := newTestServer(t, bridge.Config{}, Config{})
	pub := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendonly, ToneHz: 440})
	name := "OBS\r\nstudio " + strings.Repeat("x", 300)
	resp, answer := ts.post(t, "/whip/named?name="+url.QueryEscape(name), "application/sdp", "", pub.Offer())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHIP POST: %d %s", resp.StatusCode, answer)
	}
	pub.Answer(answer)
	var st bridge.RoomState
	joined := testkit.WaitFor(5*time.Second, func() bool {
		var err error
		st, err = ts.b.RoomState("named")
		return err == nil && len(st.Participants) == 1
	})
	if !joined {
		t.Fatalf("the publisher did not join: %+v", st)
	}
	want := ("OBS studio " + strings.Repeat("x", 300))[:bridge.MaxNameLen]
	if got := st.Participants[0].Name; got != want {
		t.Errorf("joined as %q, want %q", got, want)
	}
}
