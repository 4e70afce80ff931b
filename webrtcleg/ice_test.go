package webrtcleg

import (
	"context"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/testkit/pionbrowser"
)

var candidateRE = regexp.MustCompile(`a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host`)

// hostCandidates returns the addresses of the answer's host candidates.
func hostCandidates(t *testing.T, answer string) []netip.AddrPort {
	t.Helper()
	var out []netip.AddrPort
	for _, m := range candidateRE.FindAllStringSubmatch(answer, -1) {
		port, _ := strconv.Atoi(m[2])
		out = append(out, netip.AddrPortFrom(netip.MustParseAddr(m[1]), uint16(port)))
	}
	if len(out) == 0 {
		t.Fatalf("no host candidate in:\n%s", answer)
	}
	return out
}

// -public-ip replaces the host candidates' address (NAT 1:1); -rtp bounds their ports.
func TestPublicIPAndPortRange(t *testing.T) {
	public := netip.MustParseAddr("192.0.2.10")
	ts := newTestServer(t, bridge.Config{}, Config{PublicIP: public, MinPort: 42000, MaxPort: 42100})
	cl := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	answer, _, err := ts.s.Answer(context.Background(), "room1", cl.Offer(), JoinInfo{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range hostCandidates(t, answer) {
		if c.Addr() != public || c.Port() < 42000 || c.Port() > 42100 {
			t.Errorf("candidate %v: want %v with a port in 42000-42100", c, public)
		}
	}
}

// An ICE-lite confd (RFC 8445 section 2.5) connects with a full-ICE browser, which then
// controls the checks.
func TestICELite(t *testing.T) {
	ts := newTestServer(t, bridge.Config{}, Config{ICELite: true})
	_, _, answer := ts.connect(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv, ToneHz: 440}, JoinInfo{})
	if !strings.Contains(answer, "a=ice-lite") {
		t.Errorf("the answer does not say ice-lite:\n%s", answer)
	}
}

// Packets from an address ICE has not validated (a DTLS alert, a handshake, forged RTP) are
// dropped by pion's ICE agent before DTLS or SRTP sees them: the call goes on untouched.
func TestStrangerPacketsAreIgnored(t *testing.T) {
	ts := newTestServer(t, bridge.Config{}, Config{})
	_, call, answer := ts.connect(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionSendrecv, ToneHz: 440}, JoinInfo{})
	stranger, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	records := [][]byte{
		{21, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 2, 1, 0},                    // DTLS 1.2 alert: close_notify
		{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 1, 0, 0, 0, 0, 0, 0, 0}, // a ClientHello's start
		append([]byte{0x80, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, make([]byte, 60)...),
	}
	for _, c := range hostCandidates(t, answer) {
		for i := 0; i < 20; i++ {
			for _, r := range records {
				_, _ = stranger.WriteTo(r, net.UDPAddrFromAddrPort(c))
			}
		}
	}
	before := call.Stats()
	time.Sleep(500 * time.Millisecond)
	after := call.Stats()
	if !after.Connected || after.RTPReceived < before.RTPReceived+10 || after.RTPMalformed != before.RTPMalformed {
		t.Errorf("stranger's packets disturbed the call: before %+v, after %+v", before, after)
	}
	select {
	case <-call.Done():
		t.Errorf("the call ended: %s", call.Reason())
	default:
	}
}
