package webrtcleg

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/testkit"
	"confd/testkit/pionbrowser"
)

// isRTP tells (S)RTP from STUN, DTLS and RTCP by the first two bytes (RFC 7983, RFC 5761).
func isRTP(b []byte) bool {
	return len(b) > 12 && b[0] >= 128 && b[0] < 192 && !(b[1] >= 192 && b[1] <= 223)
}

// A WHEP listener behind a link that loses 10% of confd's RTP hears the tone within 3 dB of the
// level it heard on the clean link: its receiver reports raise the encoder's expected loss, the
// Opus FEC that follows and PLC fill the gaps.
func TestListenerAtTenPercentLoss(t *testing.T) {
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.9.0.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	serverNet, _ := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.9.0.2"}})
	clientNet, _ := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.9.0.3"}})
	if err := wan.AddNet(serverNet); err != nil {
		t.Fatal(err)
	}
	if err := wan.AddNet(clientNet); err != nil {
		t.Fatal(err)
	}
	var lossy atomic.Bool
	var dropped, passed atomic.Int64
	rng := rand.New(rand.NewPCG(1, 2))
	serverIP := net.ParseIP("10.9.0.2")
	wan.AddChunkFilter(func(c vnet.Chunk) bool {
		a, ok := c.SourceAddr().(*net.UDPAddr)
		if !ok || !a.IP.Equal(serverIP) || !isRTP(c.UserData()) || !lossy.Load() {
			return true
		}
		if rng.IntN(10) == 0 { // the filter runs on the router's one goroutine
			dropped.Add(1)
			return false
		}
		passed.Add(1)
		return true
	})
	if err := wan.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = wan.Stop() }()

	ts := newTestServer(t, bridge.Config{}, Config{ListenIPs: []netip.Addr{netip.MustParseAddr("10.9.0.2")}}, WithNet(serverNet))
	startTone(t, ts.b, "lossy", 700)
	lis := pionbrowser.Start(t, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionRecvonly, Net: clientNet})
	answer, call, err := ts.s.Answer(context.Background(), "lossy", lis.Offer(), JoinInfo{Name: "player", Listen: true, Kind: "whep"})
	if err != nil {
		t.Fatal(err)
	}
	lis.Answer(answer)

	// The clean level: a second in which the room kept real time.
	var clean float64
	if !testkit.WaitFor(15*time.Second, func() bool {
		var ok bool
		clean, ok = lis.HealthyLevel(700, time.Second)
		return ok && clean > -12
	}) {
		t.Skipf("no clean second of tone in 15 s (%.1f dBFS): the machine is too loaded; call %+v", clean, call.Stats())
	}
	lossy.Store(true)
	// The peer's receiver reports (one a second) raise the encoder's expected loss; the audio is
	// judged from a window later, when every packet in it was encoded with FEC.
	if !testkit.WaitFor(10*time.Second, func() bool { return call.Stats().FractionLost >= 0.05 }) {
		t.Fatalf("the peer's receiver reports never told confd of the loss: %+v", call.Stats())
	}
	const window = 1500 * time.Millisecond
	start, _, fec0, plc0 := lis.Decode()
	time.Sleep(window)
	level, healthy := -200.0, false
	kept := testkit.WaitFor(15*time.Second, func() bool {
		l, ok := lis.HealthyLevel(700, window)
		if ok {
			healthy, level = true, max(level, l)
		}
		return ok && l >= clean-3
	})
	n, _, fec, plc := lis.Decode()
	fec, plc = fec-fec0, plc-plc0
	st := call.Stats()
	t.Logf("clean %.1f dBFS, at loss %.1f dBFS; dropped %d of %d; %d packets, FEC %d, PLC %d; peer reported loss %.2f",
		clean, level, dropped.Load(), dropped.Load()+passed.Load(), n-start, fec, plc, st.FractionLost)
	if raceEnabled {
		t.Skip("under -race the room cannot keep real time here; figures logged only")
	}
	if !healthy {
		t.Skip("no 1.5 s window in which the room kept real time: the machine is too loaded")
	}
	if !kept {
		t.Errorf("at 10%% loss the tone is at best %.1f dBFS, more than 3 dB under the clean %.1f", level, clean)
	}
	if fec == 0 {
		t.Errorf("no lost packet was rebuilt from Opus FEC (PLC %d): the encoder did not follow the reports", plc)
	}
}
