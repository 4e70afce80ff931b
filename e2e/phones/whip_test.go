package phones

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"confd/codec"
	"confd/internal/testkit"
	"confd/internal/testkit/audiotest"
	"confd/internal/testkit/gophone"
)

// whipClient is a browser stand-in: a pion peer connection that joins a room with WHIP
// (sendrecv, Opus), sends a tone and lays what it hears on a Timeline, like a Phone.
type whipClient struct {
	pc       *webrtc.PeerConnection
	heard    *gophone.Timeline
	location string
	stop     chan struct{}
	wg       sync.WaitGroup
}

// Heard returns what the client received from from to to (Timeline.Window).
func (w *whipClient) Heard(from, to time.Time) []int16 { return w.heard.Window(from, to) }

// joinWHIP posts a WHIP offer for room to base (confd, or HAProxy in front of it) as name, and
// returns once the peer connection is up and the tone flows.
func joinWHIP(t *testing.T, base, room, name string, hz float64) *whipClient {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	w := &whipClient{pc: pc, heard: gophone.NewTimeline(time.Now()), stop: make(chan struct{})}
	t.Cleanup(w.close)
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		t.Fatal(err)
	}
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		dec, err := codec.NewDecoder(codec.Opus)
		if err != nil {
			return
		}
		pcm := make([]int16, codec.MaxPacketSamples)
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if n, err := dec.Decode(pkt.Payload, pcm); err == nil && n > 0 {
				w.heard.Add(time.Now(), pkt.SSRC, pkt.Timestamp, 48000, pcm[:n])
			}
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/whip/%s?name=%s", base, room, name), bytes.NewBufferString(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("WHIP %s: %v", room, err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHIP %s: %d %s", room, resp.StatusCode, answer)
	}
	w.location = resp.Header.Get("Location")
	if len(w.location) > 0 && w.location[0] == '/' {
		w.location = base + w.location
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatalf("WHIP %s: not connected after 10 s (%s)", room, pc.ConnectionState())
	}
	enc, err := codec.NewEncoder(codec.Format{Codec: codec.Opus, NoDTX: true})
	if err != nil {
		t.Fatal(err)
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		tone := audiotest.NewTone(hz, 0.15, codec.SampleRate)
		var frame codec.Frame
		payload := make([]byte, codec.MaxPayloadSize)
		tick := time.NewTicker(codec.FrameDuration)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			tone.Fill(frame[:])
			if n, err := enc.Encode(frame[:], payload); err == nil && n > 0 {
				_ = track.WriteSample(media.Sample{Data: append([]byte(nil), payload[:n]...), Duration: codec.FrameDuration})
			}
		}
	}()
	return w
}

// close leaves (DELETE on the resource, RFC 9725 section 4.3) and closes the connection.
func (w *whipClient) close() {
	select {
	case <-w.stop:
		return
	default:
	}
	close(w.stop)
	w.wg.Wait()
	if w.location != "" {
		if req, err := http.NewRequest(http.MethodDelete, w.location, nil); err == nil {
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
	_ = w.pc.Close()
}

// startHAProxy runs deploy/haproxy/haproxy.cfg as it is in front of the cluster's HTTP side,
// its addresses given by the environment as the file says, and waits until it serves.
func startHAProxy(t *testing.T, c *testCluster) string {
	t.Helper()
	requireBinary(t, "haproxy")
	cfgPath, err := filepath.Abs("../../deploy/haproxy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	bind := netip.AddrPortFrom(kamailioIP, uint16(testkit.MustFreePort(t)))
	cmd := exec.Command("haproxy", "-db", "-f", cfgPath)
	cmd.Env = append(os.Environ(), "CONFD_BIND="+bind.String())
	for i, n := range c.cfg.Nodes {
		cmd.Env = append(cmd.Env, fmt.Sprintf("CONFD_NODE%d=%s", i+1, n.HTTP))
	}
	log := &testkit.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("haproxy log:\n%s", log.String())
		}
	})
	base := "http://" + bind.String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-exited:
			t.Fatalf("haproxy exited:\n%s", log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("haproxy never served /readyz:\n%s", log.String())
	return ""
}

// TestClusterPhoneAndBrowserOnTwoNodes: a phone through Kamailio and a browser (a pion WHIP
// client) through HAProxy land on different nodes of one room and hear each other through a
// cascade leg; the API through HAProxy answers about the room from its owner.
func TestClusterPhoneAndBrowserOnTwoNodes(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "")
	base := startHAProxy(t, c)
	for i := range 8 {
		room := fmt.Sprintf("web%d", i)
		ada := c.mustDial(c.kam, room, "Ada", toneAda)
		phoneNode := c.landedOn(room, "Ada")
		bob := joinWHIP(t, base, room, "Bob", toneBob)
		browserNode := c.landedOn(room, "Bob")
		if phoneNode == browserNode {
			_ = ada.Close()
			bob.close()
			continue
		}
		t.Logf("room %s: owner %s, phone on %s (Kamailio), browser on %s (HAProxy)", room, c.names[c.ownerIndex(room)], c.names[phoneNode], c.names[browserNode])
		deadline := time.Now().Add(10 * time.Second)
		for {
			from := time.Now().Add(-window)
			a, b := ada.HeardLevel(from, from.Add(window), toneBob), bob.heard.Level(from, from.Add(window), toneAda)
			if a >= heardAt && b >= heardAt {
				t.Logf("the phone hears the browser at %.1f dBFS, the browser the phone at %.1f", a, b)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 10 s the phone hears the browser at %.1f dBFS and the browser the phone at %.1f, want ≥ %.0f", a, b, heardAt)
			}
			time.Sleep(gophone.LevelChunk)
		}
		own := bob.heard.Level(time.Now().Add(-window), time.Now(), toneBob)
		if own > heardAt-downBy {
			t.Errorf("the browser hears its own tone at %.1f dBFS", own)
		}
		// The API through HAProxy: any node answers about the room with the owner's view,
		// where the other node's people are one cascade leg.
		req, _ := http.NewRequest("GET", base+"/api/rooms/"+room, nil)
		req.Header.Set("Authorization", "Bearer "+apiToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"kind":"cascade"`)) {
			t.Errorf("GET /api/rooms/%s through HAProxy: %d %s, want the owner's room with a cascade leg", room, resp.StatusCode, body)
		}
		return
	}
	t.Fatal("the phone and the browser landed on one node in every room tried")
}
