package sipleg

import (
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"confd/testkit"
)

// TestStrangerRacingTheCallerToItsPortGetsNothing is issue 8 item 4 end to end: a stranger who
// learned a new call's media port sprays it before the caller's first packet (random streams,
// then a short well-formed one). The caller, sending from the address of its SDP, is heard in
// the room and hears it; the stranger gets not one packet.
func TestStrangerRacingTheCallerToItsPortGetsNothing(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	listener := dialRawPhone(t, ts, "race", 1000)
	waitParticipants(t, ts, "race", 1)

	media, port := callerMedia(t)
	p := inviteRawPhone(t, ts, "race", port, media, 700)
	c := ts.onlyCallTo(t, p)

	stranger, _ := callerMedia(t)
	dst := net.UDPAddrFromAddrPort(p.confd)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		stranger.WriteToUDP(rtpFrom(0, uint16(rng.Uint32()), rng.Uint32()), dst)
	}
	for i := range LatchRun - 1 {
		stranger.WriteToUDP(rtpFrom(0, uint16(i), 1300), dst)
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return c.media.Stats().Strangers == 40+LatchRun-1 })

	p.start()

	hearEachOther(t, p, listener)
	if src, ok := c.media.Source(); !ok || src.Port() != uint16(port) {
		t.Errorf("media source %v, want the caller's port %d", src, port)
	}
	stranger.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := stranger.ReadFromUDP(make([]byte, 1500)); err == nil {
		t.Errorf("the stranger received %d bytes", n)
	}
	if st := c.media.Stats(); st.Latches != 0 {
		t.Errorf("the media latched away from the SDP address: %+v", st)
	}
	p.d.bye()
	listener.d.bye()
	waitIdle(t, ts)
}

// inviteRawPhone sends a rawPhone's INVITE to room, its SDP naming sdpPort, and reads confd's
// media port from the answer; media is the socket it will send from and receive on. start
// ACKs and sets its media going.
func inviteRawPhone(t *testing.T, ts *testServer, room string, sdpPort int, media *net.UDPConn, toneHz float64) *rawPhone {
	t.Helper()
	return inviteRawPhoneWith(t, ts, room, sdpPort, media, toneHz, "")
}

// inviteRawPhoneWith is inviteRawPhone with extra lines (each ending in CRLF) in the offer's audio
// section.
func inviteRawPhoneWith(t *testing.T, ts *testServer, room string, sdpPort int, media *net.UDPConn, toneHz float64, extra string) *rawPhone {
	t.Helper()
	p := &rawPhone{t: t, d: newRawClient(t, "udp", ts).newDialog(), room: room, media: media, port: sdpPort, tone: toneHz,
		ver: 1, stop: make(chan struct{})}
	res := p.d.request("INVITE", room, sdpOffer(sdpPort, p.ver, pcmuAudio+extra))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE answered %d %s", res.StatusCode, res.Reason)
	}
	confd, ok := answerMedia(res)
	if !ok {
		t.Fatalf("no audio port in the answer:\n%s", res.Body())
	}
	p.confd = confd
	return p
}

func (p *rawPhone) start() {
	p.d.ack("")
	p.wg.Add(2)
	go p.send(p.media, p.tone)
	go p.receive()
	p.t.Cleanup(p.close)
}

// TestCallerBehindNATIsLatched is the NAT half of issue 8 item 4 end to end: a caller whose
// SDP names one port (its private address, as a NAT hides it) while its media comes from
// another is latched after its first in-sequence packets, is heard, and hears the room.
func TestCallerBehindNATIsLatched(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	listener := dialRawPhone(t, ts, "nat", 1000)
	_, sdpPort := callerMedia(t) // what the SDP says; nothing is sent from it
	rewritten, rewrittenPort := callerMedia(t)
	p := inviteRawPhone(t, ts, "nat", sdpPort, rewritten, 700)
	p.start()
	hearEachOther(t, p, listener)
	c := ts.onlyCallTo(t, p)
	if src, ok := c.media.Source(); !ok || src.Port() != uint16(rewrittenPort) || c.media.Stats().Latches != 1 {
		t.Errorf("media source %v (%+v), want one latch to port %d", src, c.media.Stats(), rewrittenPort)
	}
	p.d.bye()
	listener.d.bye()
	waitIdle(t, ts)
}

// hearEachOther checks that a hears b's tone and b hears a's.
func hearEachOther(t *testing.T, a, b *rawPhone) {
	t.Helper()
	aHeard, bHeard := b.listenUntil(a.tone, nil), a.listenUntil(b.tone, nil)
	t.Logf("%.0f Hz heard at %.1f dBFS, %.0f Hz at %.1f dBFS", a.tone, aHeard, b.tone, bHeard)
	if aHeard < -30 || bHeard < -30 {
		t.Errorf("%.0f Hz heard at %.1f dBFS, %.0f Hz at %.1f dBFS: want both above -30", a.tone, aHeard, b.tone, bHeard)
	}
}
