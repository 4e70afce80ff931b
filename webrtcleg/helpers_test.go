package webrtcleg

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/codec"
	"confd/internal/testkit/audiotest"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// testServer is a bridge, a webrtcleg Server on 127.0.0.1 and its HTTP endpoint.
type testServer struct {
	b    *bridge.Bridge
	s    *Server
	http *httptest.Server
}

func newTestServer(t testing.TB, bcfg bridge.Config, cfg Config, opts ...Option) *testServer {
	t.Helper()
	if cfg.ListenIPs == nil {
		cfg.ListenIPs = []netip.Addr{loopback}
	}
	b := bridge.New(bcfg)
	s, err := New(b, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{b: b, s: s, http: httptest.NewServer(s.Handler())}
	t.Cleanup(ts.close)
	return ts
}

func (ts *testServer) close() {
	ts.http.CloseClientConnections()
	ts.http.Close()
	_ = ts.s.Close()
	ts.b.Close()
}

// post sends an SDP offer to path and returns the response and its body.
func (ts *testServer) post(t *testing.T, path, contentType, token, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.http.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func (ts *testServer) delete(t *testing.T, location, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, ts.http.URL+location, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, _ := do(t, req)
	return resp
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	return doFrom(t, "", req)
}

// doFrom sends req from the loopback address src (127.0.0.0/8 is all this host's, so a test
// can speak as several sources), or from any address when src is empty.
func doFrom(t *testing.T, src string, req *http.Request) (*http.Response, string) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	if src != "" {
		tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}).DialContext
	}
	c := &http.Client{Transport: tr}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// client is a pion peer standing in for a browser, OBS or a WHEP player: it may send an Opus
// tone and records the RTP it receives.
type client struct {
	t    testing.TB
	pc   *webrtc.PeerConnection
	tone *audiotest.Tone
	sock net.PacketConn // with ownSocket
	// sender sends the tone; levelID is the negotiated RFC 6464 extension id, once answered.
	sender  *webrtc.RTPSender
	levelID atomic.Uint32

	mu      sync.Mutex
	packets []recvPacket
	// srs counts confd's sender reports about the stream the client receives; rrBlocks the
	// report blocks about the stream it sends.
	srs, rrBlocks int
	tracks        int
	stop          chan struct{}
	closeOnce     sync.Once
	wg            sync.WaitGroup
}

type recvPacket struct {
	seq     uint16
	payload []byte
	at      time.Time
}

// clientOptions say what the client offers.
type clientOptions struct {
	direction webrtc.RTPTransceiverDirection
	toneHz    float64 // 0: send nothing
	net       transport.Net
	ownSocket bool // one UDP socket for ICE (a UDP mux), which vanish closes
	discard   bool // read what arrives into one buffer and keep nothing (benchmarks)
}

func newClient(t *testing.T, o clientOptions) *client { return newClientTB(t, o) }

func newClientTB(t testing.TB, o clientOptions) *client {
	t.Helper()
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	// Browsers send the RFC 6464 level of every packet.
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	var err error
	// A benchmark's listener runs no interceptors, so that its receive path costs little and
	// allocates nothing that would count against confd's send path.
	if !o.discard {
		err = webrtc.RegisterDefaultInterceptors(m, ir)
	}
	if err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if o.net != nil {
		se.SetNet(o.net)
	} else {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	}
	var sock net.PacketConn
	if o.ownSocket {
		var err error
		if sock, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		se.SetICEUDPMux(webrtc.NewICEUDPMux(nil, sock))
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, pc: pc, stop: make(chan struct{}), sock: sock}
	var track *webrtc.TrackLocalStaticRTP
	if o.toneHz > 0 {
		track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "client")
		if err != nil {
			t.Fatal(err)
		}
		tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: o.direction})
		if err != nil {
			t.Fatal(err)
		}
		c.sender = tr.Sender()
		go c.readRTCP(c.sender.ReadRTCP, 0)
		c.tone = audiotest.NewTone(o.toneHz, 0.5, codec.SampleRate)
	} else if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: o.direction}); err != nil {
		t.Fatal(err)
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, rx *webrtc.RTPReceiver) {
		c.mu.Lock()
		c.tracks++
		c.mu.Unlock()
		go c.readRTCP(rx.ReadRTCP, uint32(tr.SSRC()))
		if o.discard {
			buf := make([]byte, 1500)
			for {
				if _, _, err := tr.Read(buf); err != nil {
					return
				}
			}
		}
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.packets = append(c.packets, recvPacket{p.SequenceNumber, bytes.Clone(p.Payload), time.Now()})
			c.mu.Unlock()
		}
	})
	if track != nil {
		c.wg.Add(1)
		go c.sendTone(track)
	}
	t.Cleanup(c.close)
	return c
}

// sendTone sends 20 ms Opus frames of the tone in real time, each with its RFC 6464 level
// (-6 dBov, voice) once the extension is negotiated, as a browser does.
func (c *client) sendTone(track *webrtc.TrackLocalStaticRTP) {
	defer c.wg.Done()
	enc, err := codec.NewEncoder(codec.Format{Codec: codec.Opus})
	if err != nil {
		c.t.Error(err)
		return
	}
	pcm := make([]int16, codec.FrameSamples)
	buf := make([]byte, 1500)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 1000, Timestamp: 50000}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		c.tone.Fill(pcm)
		n, err := enc.Encode(pcm, buf)
		if err != nil || n == 0 {
			continue
		}
		pkt.Payload = buf[:n]
		pkt.Extension, pkt.Extensions = false, nil
		if id := c.levelID.Load(); id != 0 {
			_ = pkt.SetExtension(uint8(id), []byte{0x80 | 6})
		}
		_ = track.WriteRTP(&pkt)
		pkt.SequenceNumber++
		pkt.Timestamp += codec.FrameSamples
	}
}

// readRTCP counts confd's reports: sender reports from remote (the SSRC the client receives)
// and report blocks about the client's own stream.
func (c *client) readRTCP(read func() ([]rtcp.Packet, interceptor.Attributes, error), remote uint32) {
	for {
		pkts, _, err := read()
		if err != nil {
			return
		}
		c.mu.Lock()
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.SenderReport:
				if remote != 0 && p.SSRC == remote {
					c.srs++
				}
			case *rtcp.ReceiverReport:
				if c.sender != nil {
					for _, b := range p.Reports {
						for _, e := range c.sender.GetParameters().Encodings {
							if b.SSRC == uint32(e.SSRC) {
								c.rrBlocks++
							}
						}
					}
				}
			}
		}
		c.mu.Unlock()
	}
}

// offer makes the client's offer with every candidate.
func (c *client) offer() string {
	c.t.Helper()
	o, err := c.pc.CreateOffer(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(o); err != nil {
		c.t.Fatal(err)
	}
	<-done
	return c.pc.LocalDescription().SDP
}

func (c *client) answer(answer string) {
	c.t.Helper()
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		c.t.Fatal(err)
	}
	if c.sender != nil {
		for _, h := range c.sender.GetParameters().HeaderExtensions {
			if h.URI == sdp.AudioLevelURI {
				c.levelID.Store(uint32(h.ID))
			}
		}
	}
}

func (c *client) close() {
	c.closeOnce.Do(c.doClose)
}

func (c *client) doClose() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.wg.Wait()
	_ = c.pc.Close()
	if c.sock != nil {
		_ = c.sock.Close()
	}
}

// received returns how many packets arrived and decodes them, concealing lost ones with Opus
// FEC from the next packet where it has it, else PLC, as a browser's NetEq would.
func (c *client) received() (int, []int16) {
	n, pcm, _, _ := c.decode()
	return n, pcm
}

// decode is received with the count of frames rebuilt from FEC and concealed by PLC.
func (c *client) decode() (packets int, pcm []int16, fec, plc int) {
	c.mu.Lock()
	pkts := append([]recvPacket(nil), c.packets...)
	c.mu.Unlock()
	dec, err := codec.NewDecoder(codec.Opus)
	if err != nil {
		c.t.Fatal(err)
	}
	var out []int16
	frame := make([]int16, codec.MaxPacketSamples)
	for i, p := range pkts {
		if i > 0 {
			gap := int(p.seq - pkts[i-1].seq)
			if gap > 1 && gap < 50 {
				for k := 0; k < gap-2; k++ {
					n, _ := dec.Conceal(frame[:codec.FrameSamples])
					out = append(out, frame[:n]...)
					plc++
				}
				n, err := dec.DecodeFEC(p.payload, frame[:codec.FrameSamples])
				if errors.Is(err, codec.ErrNoFEC) || err != nil {
					n, _ = dec.Conceal(frame[:codec.FrameSamples])
					plc++
				} else {
					fec++
				}
				out = append(out, frame[:n]...)
			}
		}
		n, err := dec.Decode(p.payload, frame)
		if err != nil {
			continue
		}
		out = append(out, frame[:n]...)
	}
	return len(pkts), out, fec, plc
}

// healthyLevel is the tone's level over the packets that arrived in the last window, but only
// when the room kept real time in it: their sequence numbers span at least 90% of the window's
// 20 ms ticks (lost packets count, they were sent). On this shared 2-core box a room may be
// starved of CPU for a while; such a window says nothing about the network path.
func (c *client) healthyLevel(hz float64, window time.Duration) (float64, bool) {
	pcm, ok := c.healthyWindow(window)
	if !ok {
		return 0, false
	}
	return audiotest.ToneLevel(pcm, codec.SampleRate, hz), true
}

// healthyWindow is the decoded audio of healthyLevel's window.
func (c *client) healthyWindow(window time.Duration) ([]int16, bool) {
	c.mu.Lock()
	first := -1
	since := time.Now().Add(-window)
	for i, p := range c.packets {
		if p.at.After(since) {
			first = i
			break
		}
	}
	var span int
	if first >= 0 {
		span = int(c.packets[len(c.packets)-1].seq-c.packets[first].seq) + 1
	}
	c.mu.Unlock()
	if first < 0 || span < int(window/(20*time.Millisecond))*9/10 {
		return nil, false
	}
	_, pcm, _, _ := c.decode()
	if n := span * codec.FrameSamples; len(pcm) > n {
		pcm = pcm[len(pcm)-n:]
	}
	return pcm, true
}

// hearsTone waits up to 10 s for a second in which the room kept real time and the client
// heard hz at or above minDB while each of quiet stayed 30 dB under it. A machine so loaded
// that no such second comes (or -race) leaves the audio unjudged, logged; a healthy second
// with the wrong audio fails.
func hearsTone(t *testing.T, c *client, hz, minDB float64, quiet ...float64) {
	t.Helper()
	level, worst, healthy, ok := -200.0, -200.0, false, false
	for deadline := time.Now().Add(10 * time.Second); !ok && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		pcm, h := c.healthyWindow(time.Second)
		if !h {
			continue
		}
		healthy, level, worst = true, audiotest.ToneLevel(pcm, codec.SampleRate, hz), -200
		for _, q := range quiet {
			worst = max(worst, audiotest.ToneLevel(pcm, codec.SampleRate, q))
		}
		ok = level >= minDB && worst < level-30
	}
	t.Logf("hears %.0f Hz at %.1f dBFS (others at most %.1f)", hz, level, worst)
	switch {
	case ok:
	case !healthy || raceEnabled:
		t.Logf("no second in which the room kept real time (or -race): audio not judged")
	default:
		t.Errorf("hears %.0f Hz at %.1f dBFS (want ≥ %.0f) and the others at %.1f dBFS", hz, level, minDB, worst)
	}
}
