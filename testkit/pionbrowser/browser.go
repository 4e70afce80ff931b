package pionbrowser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"confd/codec"
	"confd/testkit"
	"confd/testkit/audiotest"
)

// ErrJoin means a WHIP or WHEP exchange failed: the server refused the offer, or the
// connection did not come up.
var ErrJoin = errors.New("pionbrowser: join failed")

// Options say what a Browser offers and does. The zero value is a sendrecv browser that sends
// nothing.
type Options struct {
	// Direction is the audio transceiver's direction. Default sendrecv.
	Direction webrtc.RTPTransceiverDirection
	// ToneHz is the frequency of the Opus tone the browser sends; 0 sends nothing.
	ToneHz float64
	// ToneAmplitude is the tone's peak, 0..1 of full scale. Default 0.5.
	ToneAmplitude float64
	// Net is a virtual network (pion's vnet) to run ICE on; nil is 127.0.0.1.
	Net transport.Net
	// OwnSocket gives ICE one UDP socket of its own (a UDP mux), which Vanish closes.
	OwnSocket bool
	// OpusOnly offers Opus alone (payload type 111) without the RFC 6464 level extension, and
	// runs no interceptors: a plain player, not a browser.
	OpusOnly bool
	// Discard reads what arrives into one buffer and keeps nothing, and runs no interceptors,
	// so that a benchmark's listener costs little and allocates nothing.
	Discard bool
	// OnTrack, when set, reads each remote track instead of the Browser (which then keeps
	// nothing): a load generator's own receiver.
	OnTrack func(*webrtc.TrackRemote)
	// From, when valid, is the address the browser's HTTP requests (Join's POST, Close's
	// DELETE) come from, as a browser on another machine's would: a loopback address other
	// than 127.0.0.1 stands for one.
	From netip.Addr
}

// Packet is one RTP packet the browser received.
type Packet struct {
	Seq     uint16
	Payload []byte
	At      time.Time
}

// Browser is one pion peer connection standing in for a browser. Its goroutines end with Close.
type Browser struct {
	// PC is the peer connection, for what a test asks of it directly (its state).
	PC *webrtc.PeerConnection

	tb   testkit.TB // nil for New
	tone *audiotest.Tone
	sock net.PacketConn // with OwnSocket
	// sender sends the tone; levelID is the negotiated RFC 6464 extension id, once answered.
	sender    *webrtc.RTPSender
	levelID   atomic.Uint32
	connected chan struct{}
	location  string // the WHIP/WHEP resource, after Join
	http      *http.Client

	mu      sync.Mutex
	packets []Packet
	// srs counts confd's sender reports about the stream the browser receives; rrBlocks the
	// report blocks about the stream it sends.
	srs, rrBlocks int
	tracks        int

	stop      chan struct{}
	stopOnce  sync.Once
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Start is New for a test: it fails the test on an error and closes the browser when the test
// ends. Offer and Answer of a browser made by Start fail the test too.
func Start(t testkit.TB, o Options) *Browser {
	t.Helper()
	b, err := New(o)
	if err != nil {
		t.Fatalf("pionbrowser: %v", err)
	}
	b.tb = t
	t.Cleanup(b.Close)
	return b
}

// New makes a browser as o says; it starts sending its tone at once (into the void until the
// connection is up).
func New(o Options) (*Browser, error) {
	if o.Direction == webrtc.RTPTransceiverDirectionUnknown {
		o.Direction = webrtc.RTPTransceiverDirectionSendrecv
	}
	if o.ToneAmplitude == 0 {
		o.ToneAmplitude = 0.5
	}
	m := &webrtc.MediaEngine{}
	ir := &interceptor.Registry{}
	if o.OpusOnly {
		if err := m.RegisterCodec(webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
				SDPFmtpLine: "minptime=10;useinbandfec=1"},
			PayloadType: 111,
		}, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	} else {
		if err := m.RegisterDefaultCodecs(); err != nil {
			return nil, err
		}
		// Browsers send the RFC 6464 level of every packet.
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
		if !o.Discard {
			if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
				return nil, err
			}
		}
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if o.Net != nil {
		se.SetNet(o.Net)
	} else {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	}
	var sock net.PacketConn
	if o.OwnSocket {
		var err error
		if sock, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
			return nil, err
		}
		se.SetICEUDPMux(webrtc.NewICEUDPMux(nil, sock))
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	// Connections are kept for reuse: confd caps the connections one address may open per
	// second and hold at once (http_security.conn_rate, max_conns_per_source).
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	if o.From.IsValid() {
		tr.DialContext = (&net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(o.From, 0))}).DialContext
	}
	b := &Browser{PC: pc, stop: make(chan struct{}), sock: sock, connected: make(chan struct{}),
		http: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
	var connectedOnce sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			connectedOnce.Do(func() { close(b.connected) })
		}
	})
	var track *webrtc.TrackLocalStaticRTP
	if o.ToneHz > 0 {
		track, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "browser")
		if err != nil {
			b.Close()
			return nil, err
		}
		tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: o.Direction})
		if err != nil {
			b.Close()
			return nil, err
		}
		b.sender = tr.Sender()
		go b.readRTCP(b.sender.ReadRTCP, 0)
		b.tone = audiotest.NewTone(o.ToneHz, o.ToneAmplitude, codec.SampleRate)
	} else if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: o.Direction}); err != nil {
		b.Close()
		return nil, err
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, rx *webrtc.RTPReceiver) {
		b.mu.Lock()
		b.tracks++
		b.mu.Unlock()
		go b.readRTCP(rx.ReadRTCP, uint32(tr.SSRC()))
		switch {
		case o.OnTrack != nil:
			o.OnTrack(tr)
		case o.Discard:
			buf := make([]byte, 1500)
			for {
				if _, _, err := tr.Read(buf); err != nil {
					return
				}
			}
		default:
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				b.mu.Lock()
				b.packets = append(b.packets, Packet{p.SequenceNumber, bytes.Clone(p.Payload), time.Now()})
				b.mu.Unlock()
			}
		}
	})
	if track != nil {
		b.wg.Add(1)
		go b.sendTone(track)
	}
	return b, nil
}

// sendTone sends 20 ms Opus frames of the tone in real time, each with its RFC 6464 level
// (-6 dBov, voice) once the extension is negotiated, as a browser does.
func (b *Browser) sendTone(track *webrtc.TrackLocalStaticRTP) {
	defer b.wg.Done()
	enc, err := codec.NewEncoder(codec.Format{Codec: codec.Opus})
	if err != nil {
		return
	}
	pcm := make([]int16, codec.FrameSamples)
	buf := make([]byte, 1500)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 1000, Timestamp: 50000}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-tick.C:
		}
		b.tone.Fill(pcm)
		n, err := enc.Encode(pcm, buf)
		if err != nil || n == 0 {
			continue
		}
		pkt.Payload = buf[:n]
		pkt.Extension, pkt.Extensions = false, nil
		if id := b.levelID.Load(); id != 0 {
			_ = pkt.SetExtension(uint8(id), []byte{0x80 | 6})
		}
		_ = track.WriteRTP(&pkt)
		pkt.SequenceNumber++
		pkt.Timestamp += codec.FrameSamples
	}
}

// readRTCP counts confd's reports: sender reports from remote (the SSRC the browser receives)
// and report blocks about the browser's own stream.
func (b *Browser) readRTCP(read func() ([]rtcp.Packet, interceptor.Attributes, error), remote uint32) {
	for {
		pkts, _, err := read()
		if err != nil {
			return
		}
		b.mu.Lock()
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.SenderReport:
				if remote != 0 && p.SSRC == remote {
					b.srs++
				}
			case *rtcp.ReceiverReport:
				if b.sender != nil {
					for _, rb := range p.Reports {
						for _, e := range b.sender.GetParameters().Encodings {
							if rb.SSRC == uint32(e.SSRC) {
								b.rrBlocks++
							}
						}
					}
				}
			}
		}
		b.mu.Unlock()
	}
}

// fail ends the test of a browser made by Start, or panics: Offer and Answer are for tests.
func (b *Browser) fail(err error) {
	if b.tb == nil {
		panic(err)
	}
	b.tb.Helper()
	b.tb.Fatalf("pionbrowser: %v", err)
}

// Offer makes the browser's offer with every candidate (a page waits for gathering too).
func (b *Browser) Offer() string {
	s, err := b.offer(context.Background())
	if err != nil {
		b.fail(err)
	}
	return s
}

func (b *Browser) offer(ctx context.Context) (string, error) {
	o, err := b.PC.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	done := webrtc.GatheringCompletePromise(b.PC)
	if err := b.PC.SetLocalDescription(o); err != nil {
		return "", err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return b.PC.LocalDescription().SDP, nil
}

// Answer takes the server's answer.
func (b *Browser) Answer(answer string) {
	if err := b.answer(answer); err != nil {
		b.fail(err)
	}
}

func (b *Browser) answer(answer string) error {
	if err := b.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return err
	}
	if b.sender != nil {
		for _, h := range b.sender.GetParameters().HeaderExtensions {
			if h.URI == sdp.AudioLevelURI {
				b.levelID.Store(uint32(h.ID))
			}
		}
	}
	return nil
}

// Connected is closed once the peer connection is up (ICE and DTLS done).
func (b *Browser) Connected() <-chan struct{} { return b.connected }

// Join posts the browser's offer to url, a WHIP or WHEP endpoint (RFC 9725: POST
// /whip/ROOM or /whep/ROOM), takes the 201's answer and waits until the connection is up or
// ctx ends. Close leaves the resource the 201 named (DELETE).
func (b *Browser) Join(ctx context.Context, url string) error {
	offer, err := b.offer(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBufferString(offer))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrJoin, err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("%w: %s: %d %s", ErrJoin, url, resp.StatusCode, answer)
	}
	b.location = resp.Header.Get("Location")
	if b.location != "" && b.location[0] == '/' {
		b.location = resp.Request.URL.Scheme + "://" + resp.Request.URL.Host + b.location
	}
	if err := b.answer(string(answer)); err != nil {
		return err
	}
	select {
	case <-b.connected:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %s: not connected (%s): %w", ErrJoin, url, b.PC.ConnectionState(), ctx.Err())
	}
}

// Close stops the tone, leaves a joined resource (DELETE, RFC 9725 section 4.3) and closes the
// peer connection. It is safe to call more than once.
func (b *Browser) Close() { b.closeOnce.Do(b.doClose) }

func (b *Browser) doClose() {
	b.stopTone()
	if b.location != "" {
		if req, err := http.NewRequest(http.MethodDelete, b.location, nil); err == nil {
			if resp, err := b.http.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
	_ = b.PC.Close()
	if b.sock != nil {
		_ = b.sock.Close()
	}
}

// stopTone stops the tone and waits until it is no longer sent.
func (b *Browser) stopTone() {
	b.stopOnce.Do(func() { close(b.stop) })
	b.wg.Wait()
}

// Vanish makes the browser silent without a goodbye, as a killed tab: the tone stops and its
// one UDP socket (OwnSocket) is closed under its ICE agent, so neither consent answers nor a
// DTLS close_notify reach confd.
func (b *Browser) Vanish() {
	b.stopTone()
	if b.sock != nil {
		_ = b.sock.Close()
	}
}
