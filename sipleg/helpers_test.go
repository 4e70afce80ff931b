package sipleg

import "testing"

// skipPromptsIfShort skips, under -short, a test that waits through confd's spoken prompts as
// they play: seconds each, in real time.
func skipPromptsIfShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("plays spoken prompts in real time")
	}
}

// newCaller is a caller of ts that has sent nothing yet: a raw UDP client, a new dialog of it,
// and the port of its RTP socket on 127.0.0.1 (closed with the test) for the dialog's SDP to
// name.
func newCaller(t *testing.T, ts *testServer) (*rawClient, *dialog, int) {
	t.Helper()
	_, port := callerMedia(t)
	c := newRawClient(t, "udp", ts)
	return c, c.newDialog(), port
}

// answeredCall places a PCMU call into room from a caller of its own (newCaller) and ACKs
// confd's 200.
func answeredCall(t *testing.T, ts *testServer, room string) (*rawClient, *dialog) {
	t.Helper()
	c, d, port := newCaller(t, ts)
	if res := d.request("INVITE", room, sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 200 {
		t.Fatalf("INVITE answered %d", res.StatusCode)
	}
	d.ack("")
	return c, d
}
