package webrtcleg

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"confd/bridge"
	"confd/testkit"
	"confd/testkit/pionbrowser"
)

// TestTheRoomWritesTheAnswersSSRC: the participant's stream is the one confd's answer names
// (a=ssrc, RFC 8830: pion's sender's), so that the packets, the room's sender reports and the
// browser's receiver reports are about one SSRC with nothing translated on the way: the browser
// counts sender reports about the track it receives, and its receiver reports reach the call as
// reports about confd's stream.
func TestTheRoomWritesTheAnswersSSRC(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, bridge.Config{RTCPInterval: 300 * time.Millisecond}, Config{})
	cl, call, answer := ts.connect(t, pionbrowser.Options{ToneHz: 440}, JoinInfo{Name: "ada"})
	m := regexp.MustCompile(`a=ssrc:(\d+) `).FindStringSubmatch(answer)
	if m == nil {
		t.Fatalf("the answer names no SSRC:\n%s", answer)
	}
	want, _ := strconv.ParseUint(m[1], 10, 32)
	if got := call.Participant().SSRC(); got != uint32(want) {
		t.Errorf("the participant's SSRC is %d, the answer's %d", got, want)
	}
	if !testkit.WaitFor(5*time.Second, func() bool { return cl.SenderReports() > 0 && call.Stats().RTCPReceived > 0 }) {
		t.Errorf("the browser got %d sender reports about its track; the call %d reports about confd's stream (%d bad)",
			cl.SenderReports(), call.Stats().RTCPReceived, call.Stats().RTCPBad)
	}
}
