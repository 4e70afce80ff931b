package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"confd/codec"
)

// rtcClient is the pion API every WHEP listener of a run is made with: Opus only, no
// interceptors (a listener needs neither reports nor NACKs here, and each one would be work
// on the generator's per-packet path), host candidates on 127.0.0.1 only.
type rtcClient struct {
	api  *webrtc.API
	http *http.Client
}

func newRTCClient() (*rtcClient, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(&interceptor.Registry{}),
		webrtc.WithSettingEngine(se))
	// Connections are kept for reuse: confd caps the connections one address may open per
	// second and hold at once (http_security.conn_rate, max_conns_per_source).
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	return &rtcClient{api: api, http: &http.Client{Timeout: 30 * time.Second, Transport: tr}}, nil
}

// rtcListener is one WHEP listener (RFC 9725's WHEP counterpart: confd's POST /whep/ROOM).
type rtcListener struct {
	pc       *webrtc.PeerConnection
	location string
	client   *rtcClient
	reading  sync.WaitGroup
}

// joinWebRTC connects leg l as a WHEP listener to room at base (confd's HTTP URL) and starts
// reading what it hears.
func joinWebRTC(ctx context.Context, rc *rtcClient, base, room string, l *leg) error {
	pc, err := rc.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	rl := &rtcListener{pc: pc, client: rc}
	l.rtc, l.codec = rl, codec.Opus
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return err
	}
	if l.recv.sampled {
		if l.recv.dec, err = codec.NewDecoder(codec.Opus); err != nil {
			return err
		}
	}
	connected := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	rl.reading.Add(1)
	var onTrack sync.Once
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		first := false
		onTrack.Do(func() { first = true })
		if !first {
			return
		}
		defer rl.reading.Done()
		l.recv.pt = uint8(tr.PayloadType())
		buf := make([]byte, 1500)
		for {
			n, _, err := tr.Read(buf)
			if err != nil {
				return
			}
			l.recv.packet(buf[:n], time.Now())
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	}
	url := fmt.Sprintf("%s/whep/%s?name=load%d", base, room, l.index)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBufferString(pc.LocalDescription().SDP))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/sdp")
	resp, err := rc.http.Do(req)
	if err != nil {
		return fmt.Errorf("load: WHEP listener %d: %w", l.index, err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("load: WHEP listener %d: %d %s", l.index, resp.StatusCode, answer)
	}
	rl.location = resp.Header.Get("Location")
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		return err
	}
	select {
	case <-connected:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("load: WHEP listener %d: not connected after 30 s (%s)", l.index, pc.ConnectionState())
	case <-ctx.Done():
		return ctx.Err()
	}
	if rl.location != "" && rl.location[0] == '/' {
		rl.location = base + rl.location
	}
	return nil
}

// close leaves with DELETE on the resource (RFC 9725 section 4.3) and closes the peer connection.
func (rl *rtcListener) close() {
	if rl.location != "" {
		if req, err := http.NewRequest(http.MethodDelete, rl.location, nil); err == nil {
			if resp, err := rl.client.http.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
	_ = rl.pc.Close()
}
