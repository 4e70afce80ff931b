package sipleg

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// TestStrangerRacingTheCallerToItsPortGetsNothing is issue 8 item 4 end to end: a stranger who
// learned a new call's media port sprays it before the caller's first packet (random streams,
// then a short well-formed one). The caller, sending from the address of its SDP, is heard in
// the room and hears it; the stranger gets not one packet.
func TestStrangerRacingTheCallerToItsPortGetsNothing(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	listener := dialGoPhone(t, ts, "race", 1000)
	waitFor(t, func() bool { return participants(ts, "race") == 1 })

	media, port := callerMedia(t)
	p := &goPhone{t: t, d: newRawClient(t, "udp", ts).newDialog(), room: "race", media: media, port: port, tone: 700,
		ver: 1, stop: make(chan struct{})}
	res := p.d.request("INVITE", p.room, sdpOffer(port, p.ver, pcmuAudio))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE answered %d %s", res.StatusCode, res.Reason)
	}
	m := mediaPort.FindSubmatch(res.Body())
	if m == nil {
		t.Fatalf("no audio port in the answer:\n%s", res.Body())
	}
	n, _ := strconv.Atoi(string(m[1]))
	p.confd = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(n))
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
	waitFor(t, func() bool { return c.media.Stats().Strangers == 40+LatchRun-1 })

	p.d.ack("")
	p.wg.Add(2)
	go p.send(p.media, p.tone)
	go p.receive()
	t.Cleanup(p.close)

	callerHeard := listener.listenUntil(700, nil)
	callerHears := p.listenUntil(1000, nil)
	t.Logf("the listener hears the caller at %.1f dBFS, the caller hears the listener at %.1f dBFS", callerHeard, callerHears)
	if callerHeard < -30 || callerHears < -30 {
		t.Errorf("the caller is heard at %.1f dBFS and hears at %.1f dBFS", callerHeard, callerHears)
	}
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
