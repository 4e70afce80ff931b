package sipws

import (
	"log/slog"
	"testing"

	"confd/bridge"
)

// BenchmarkHandle measures one SIP message through a connection's handler, answer written
// included (to a discarding writer): signalling is per call, not per packet, so this bounds
// how many browsers one core can keep signalling, not the media path.
func BenchmarkHandle(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	br := bridge.New(bridge.Config{}, bridge.WithLogger(log))
	defer br.Close()
	s := newServer(br, Config{}, nil, WithLogger(log))
	msgs := map[string][]byte{
		"OPTIONS":  []byte(newDialog("sip:room1@confd").req("OPTIONS", "", "")),
		"REGISTER": []byte(newDialog("sip:confd").req("REGISTER", "Expires: 600\r\n", "")),
		"garbage":  []byte("INVITE nonsense\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\n\r\n"),
	}
	for name, msg := range msgs {
		b.Run(name, func(b *testing.B) {
			c := newConn(s, nil, nil, "WS", "confd.test", "127.0.0.1:5000")
			written := 0
			c.write = func(p []byte) error { written += len(p); return nil }
			b.ReportAllocs()
			for b.Loop() {
				c.bad = 0
				if err := c.handle(msg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(written)/float64(b.N), "bytes-out/op")
		})
	}
}
