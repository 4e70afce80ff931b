package sipws

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/sipdigest"
	"confd/sipua"
	"confd/webrtcleg"
)

// fuzzSeeds are messages a browser, a broken client and an attacker send.
var fuzzSeeds = []string{
	newDialog("sip:room1@confd").invite(fakeOffer, ""),
	newDialog("sip:secret@confd;pin=1234").invite(fakeOffer, "X-Confd-PIN: 1234\r\n"),
	newDialog("sip:confd").req("REGISTER", "Expires: 600\r\n", ""),
	newDialog("sip:confd").req("REGISTER", "Contact: *\r\nExpires: 0\r\n", ""),
	newDialog("sip:room1@confd").req("OPTIONS", "", ""),
	newDialog("sip:room1@confd").req("INFO", "Content-Type: application/dtmf-relay\r\n", "Signal=5\r\nDuration=160\r\n"),
	newDialog("sip:room1@confd").req("CANCEL", "", ""),
	newDialog("sip:room1@confd").req("BYE", "", ""),
	newDialog("sip:room1@confd").req("ACK", "", ""),
	newDialog("sip:room1@confd").req("MESSAGE", "Require: 100rel\r\n", ""),
	"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
	"INVITE sip:room1@confd SIP/7.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n\r\n",
	"\r\n\r\n",
	"garbage",
	jssipRegister,
}

// FuzzHandle feeds one WebSocket message to a connection's handler: nothing may panic, every
// answer written must be a SIP message (or the CRLF keep-alive pong), and the only errors are
// the ones that close the connection.
func FuzzHandle(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, name := range []string{"sipjs-invite.sip", "sipjs-ack.sip", "sipjs-bye.sip"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	log := slog.New(slog.DiscardHandler)
	b := bridge.New(bridge.Config{Rooms: map[string]bridge.RoomSettings{"secret": {PIN: "1234"}, "locked": {Locked: true}}}, bridge.WithLogger(log))
	defer b.Close()
	answer := func(ctx context.Context, room, offer string, info webrtcleg.JoinInfo) (string, media, error) {
		if len(offer) < 10 {
			return "", nil, webrtcleg.ErrBadOffer
		}
		return "v=0\r\n", newFakeMedia(), nil
	}
	sec := sipua.AuthConfig{Users: []sipdigest.User{{Name: "ada", Password: "pw"}}}
	f.Fuzz(func(t *testing.T, msg []byte) {
		s := newServer(b, Config{Auth: sec, MaxMessageSize: 8 << 10}, answer, WithLogger(log))
		var (
			mu  sync.Mutex // the call's goroutine answers too, as on a real connection
			out [][]byte
		)
		c := newConn(s, nil, nil, "WS", "confd.test", "127.0.0.1:5000")
		c.write = func(p []byte) error {
			mu.Lock()
			out = append(out, bytes.Clone(p))
			mu.Unlock()
			return nil
		}
		err := c.handle(msg)
		if err != nil && !errors.Is(err, ErrFlood) && !errors.Is(err, ErrMessageTooLarge) {
			t.Fatalf("handle: %v", err)
		}
		// The second time must not panic either (a retransmission, a dialog that exists).
		_ = c.handle(msg)
		c.close(0, "")
		s.wg.Wait()
		for _, p := range out {
			if string(p) == "\r\n" {
				continue
			}
			if _, err := sip.ParseMessage(p); err != nil {
				t.Fatalf("confd wrote an unparsable message %q: %v", p, err)
			}
		}
	})
}
