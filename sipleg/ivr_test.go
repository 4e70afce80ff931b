package sipleg

import (
	"fmt"
	"testing"
	"time"

	"confd/bridge"
)

// info sends one INFO with a dtmf-relay body in the dialog.
func (d *dialog) info(digit byte) int {
	c := d.c
	msg := string(c.inDialog("INFO", d.last, d.cseq))
	body := fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", digit)
	msg = msg[:len(msg)-len("Content-Length: 0\r\n\r\n")] +
		fmt.Sprintf("Content-Type: application/dtmf-relay\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	c.send([]byte(msg))
	for {
		res := c.read(3 * time.Second)
		if res == nil {
			c.t.Fatal("INFO not answered")
		}
		if res.CSeq().MethodName == "INFO" && res.CSeq().SeqNo == d.cseq {
			d.cseq++
			return res.StatusCode
		}
	}
}

func TestPINByInfoJoinsTheRoom(t *testing.T) {
	if testing.Short() {
		t.Skip("plays spoken prompts in real time")
	}
	ts := startServer(t, Config{IVRDigitTimeout: 3 * time.Second}, map[string]bridge.RoomSettings{"secret": {PIN: "4321"}})
	_, port := callerMedia(t)
	c := newRawClient(t, "udp", ts)
	d := c.newDialog()
	if res := d.request("INVITE", "secret", sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 200 {
		t.Fatalf("INVITE answered %d", res.StatusCode)
	}
	d.ack("")
	d.cseq++
	if participants(ts, "secret") != 0 {
		t.Fatal("joined before the PIN")
	}
	for _, digit := range []byte("4321#") {
		if code := d.info(digit); code != 200 {
			t.Fatalf("INFO answered %d", code)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for participants(ts, "secret") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the right PIN did not join the room")
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.bye()
	waitIdle(t, ts)
}

func TestDrainRefusesNewCalls(t *testing.T) {
	ts := startServer(t, Config{RetryAfter: 7}, nil)
	ts.Drain()
	_, port := callerMedia(t)
	c := newRawClient(t, "udp", ts)
	res := c.newDialog().request("INVITE", "room", sdpOffer(port, 1, pcmuAudio))
	if res.StatusCode != 503 || res.GetHeader("Retry-After") == nil || res.GetHeader("Retry-After").Value() != "7" {
		t.Fatalf("answered %d %v while draining", res.StatusCode, res.GetHeader("Retry-After"))
	}
	if _, err := ts.DialOut(t.Context(), "room", "sip:bob@127.0.0.1"); err == nil {
		t.Fatal("dial-out while draining")
	}
}
