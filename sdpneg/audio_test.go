package sdpneg

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/pion/sdp/v3"
)

// offerFirefox is a WebRTC offer in the form Firefox writes it (ids, keys and the fingerprint
// changed): the fingerprint at session level, fmtp before rtpmap, an extmap with a direction,
// stereo=1 in the Opus fmtp and "G722/8000/1".
var offerFirefox = sdpText(`
	v=0
	o=mozilla...THIS_IS_SDPARTA-99.0 7055464591212427330 0 IN IP4 0.0.0.0
	s=-
	t=0 0
	a=fingerprint:sha-256 5C:32:5E:2B:6A:5F:8E:13:1E:50:91:38:10:4E:3A:7C:24:1C:6B:60:3E:14:A5:3B:6D:76:E8:4F:3D:49:8E:06
	a=group:BUNDLE 0
	a=ice-options:trickle
	a=msid-semantic:WMS *
	m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101
	c=IN IP4 0.0.0.0
	a=sendrecv
	a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
	a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level
	a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
	a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
	a=fmtp:101 0-15
	a=ice-pwd:3d0f4b1c7a9e2b6d5c8f1a0e4b7d2c9f
	a=ice-ufrag:8a1f2c3d
	a=mid:0
	a=msid:{2e6a9f1c-4b3d-4e8a-9c7b-1d2e3f4a5b6c} {7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f}
	a=rtcp-mux
	a=rtpmap:109 opus/48000/2
	a=rtpmap:9 G722/8000/1
	a=rtpmap:0 PCMU/8000
	a=rtpmap:8 PCMA/8000
	a=rtpmap:101 telephone-event/8000
	a=setup:actpass
	a=ssrc:2218434411 cname:{4f7e2d1c-9b8a-4c6d-a5e4-3f2e1d0c9b8a}`)

func TestReadAudioBrowsers(t *testing.T) {
	cases := []struct {
		name   string
		body   []byte
		want   Audio
		opusPT uint8
		stereo bool
		level  uint8
	}{
		{"chromium", offerChromium, Audio{
			Profile: "UDP/TLS/RTP/SAVPF", WebRTC: true, Direction: SendRecv,
			Formats: []PayloadFormat{
				{Type: 111, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "minptime=10;useinbandfec=1"},
				{Type: 63, Name: "red", ClockRate: 48000, Channels: 2, Fmtp: "111/111"},
				{Type: 9, Name: "G722", ClockRate: 8000},
				{Type: 0, Name: "PCMU", ClockRate: 8000},
				{Type: 8, Name: "PCMA", ClockRate: 8000},
				{Type: 13, Name: "CN", ClockRate: 8000},
				{Type: 110, Name: "telephone-event", ClockRate: 48000},
				{Type: 126, Name: "telephone-event", ClockRate: 8000},
			},
			Extensions: []Extension{{ID: 1, URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level"}},
		}, 111, false, 1},
		{"firefox", offerFirefox, Audio{
			Profile: "UDP/TLS/RTP/SAVPF", WebRTC: true, Direction: SendRecv,
			Formats: []PayloadFormat{
				{Type: 109, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "maxplaybackrate=48000;stereo=1;useinbandfec=1"},
				{Type: 9, Name: "G722", ClockRate: 8000, Channels: 1},
				{Type: 0, Name: "PCMU", ClockRate: 8000},
				{Type: 8, Name: "PCMA", ClockRate: 8000},
				{Type: 101, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-15"},
			},
			Extensions: []Extension{
				{ID: 1, URI: "urn:ietf:params:rtp-hdrext:ssrc-audio-level"},
				{ID: 2, URI: "urn:ietf:params:rtp-hdrext:csrc-audio-level"},
				{ID: 3, URI: "urn:ietf:params:rtp-hdrext:sdes:mid"},
			},
		}, 109, true, 1},
		{"baresip (SIP, not WebRTC)", offerBaresip, Audio{
			Profile: "RTP/AVP", Direction: SendRecv,
			Formats: []PayloadFormat{
				{Type: 96, Name: "opus", ClockRate: 48000, Channels: 2, Fmtp: "stereo=1;sprop-stereo=1"},
				{Type: 9, Name: "G722", ClockRate: 8000},
				{Type: 0, Name: "PCMU", ClockRate: 8000},
				{Type: 8, Name: "PCMA", ClockRate: 8000},
				{Type: 101, Name: "telephone-event", ClockRate: 8000, Fmtp: "0-15"},
			},
		}, 96, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadAudio(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*a, tc.want) {
				t.Errorf("read\n%+v\nwant\n%+v", *a, tc.want)
			}
			opus, ok := a.Opus()
			if !ok || opus.Type != tc.opusPT || ParseOpusParams(opus.Fmtp).Stereo != tc.stereo {
				t.Errorf("Opus %+v %v, want pt %d stereo %v", opus, ok, tc.opusPT, tc.stereo)
			}
			if id := a.ExtensionID("urn:ietf:params:rtp-hdrext:ssrc-audio-level"); id != tc.level {
				t.Errorf("audio level id %d, want %d", id, tc.level)
			}
		})
	}
}

// TestReadAudioWebRTCRule holds the one rule for what is WebRTC: ReadAudio's WebRTC and
// Answer's ErrWebRTCOffer agree on every profile.
func TestReadAudioWebRTCRule(t *testing.T) {
	const fp = "a=fingerprint:sha-256 AA:BB\n"
	cases := []struct {
		name    string
		session string
		mline   string
		webrtc  bool
	}{
		{"UDP/TLS/RTP/SAVPF", sessC + fp, "m=audio 9 UDP/TLS/RTP/SAVPF 111", true},
		{"UDP/TLS/RTP/SAVPF without fingerprint", sessC, "m=audio 9 UDP/TLS/RTP/SAVPF 111", true},
		{"UDP/TLS/RTP/SAVP", sessC + fp, "m=audio 9 UDP/TLS/RTP/SAVP 111", true},
		{"TCP/DTLS/RTP/SAVPF", sessC + fp, "m=audio 9 TCP/DTLS/RTP/SAVPF 111", true},
		{"TCP/TLS/RTP/SAVPF", sessC + fp, "m=audio 9 TCP/TLS/RTP/SAVPF 111", true},
		{"RTP/SAVPF with fingerprint", sessC + fp, "m=audio 9 RTP/SAVPF 111", true},
		{"RTP/SAVP with media-level fingerprint", sessC, "m=audio 9 RTP/SAVP 111\n" + fp, true},
		{"RTP/SAVPF without fingerprint (SDES)", sessC, "m=audio 9 RTP/SAVPF 111", false},
		{"RTP/AVP with fingerprint", sessC + fp, "m=audio 9 RTP/AVP 111", false},
		{"RTP/AVPF", sessC, "m=audio 9 RTP/AVPF 111", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := offerWith(tc.session, tc.mline, "a=rtpmap:111 opus/48000/2")
			a, err := ReadAudio(body)
			if err != nil {
				t.Fatal(err)
			}
			if a.WebRTC != tc.webrtc {
				t.Errorf("WebRTC %v, want %v", a.WebRTC, tc.webrtc)
			}
			_, _, err = Answer(body, testLocal)
			if errors.Is(err, ErrWebRTCOffer) != a.WebRTC {
				t.Errorf("Answer says %v, ReadAudio WebRTC %v", err, a.WebRTC)
			}
		})
	}
	for name, o := range realWorldOffers {
		a, err := ReadAudio(o)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, _, err := Answer(o, testLocal); errors.Is(err, ErrWebRTCOffer) != a.WebRTC {
			t.Errorf("%s: Answer says %v, ReadAudio WebRTC %v", name, err, a.WebRTC)
		}
	}
}

func TestReadAudioDirection(t *testing.T) {
	cases := []struct {
		name    string
		session string
		attrs   []string
		want    Direction
	}{
		{"none", sessC, nil, SendRecv},
		{"media", sessC, []string{"a=recvonly"}, RecvOnly},
		{"session default", sessC + "a=sendonly\n", nil, SendOnly},
		{"media over session", sessC + "a=sendonly\n", []string{"a=inactive"}, Inactive},
		{"the first of two, as pion reads it", sessC, []string{"a=sendonly", "a=recvonly"}, SendOnly},
		// WebRTC offers always write c=IN IP4 0.0.0.0: it is not the RFC 2543 hold here.
		{"c=0.0.0.0 is no hold", "c=IN IP4 0.0.0.0\n", nil, SendRecv},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadAudio(offerWith(tc.session, "m=audio 9 UDP/TLS/RTP/SAVPF 111", tc.attrs...))
			if err != nil {
				t.Fatal(err)
			}
			if a.Direction != tc.want {
				t.Errorf("direction %v, want %v", a.Direction, tc.want)
			}
		})
	}
}

func TestReadAudioOpus(t *testing.T) {
	cases := []struct {
		name  string
		attrs []string
		pt    uint8 // 0: no Opus
	}{
		{"opus/48000/2", []string{"a=rtpmap:111 opus/48000/2"}, 111},
		{"name in upper case", []string{"a=rtpmap:111 OPUS/48000/2"}, 111},
		{"channels left out (pion reads 2)", []string{"a=rtpmap:111 opus/48000"}, 111},
		{"mono", []string{"a=rtpmap:111 opus/48000/1"}, 0},
		{"wrong clock", []string{"a=rtpmap:111 opus/16000/2"}, 0},
		{"rtpmap of a type the m-line does not list", []string{"a=rtpmap:112 opus/48000/2"}, 0},
		{"the m-line's order, not the rtpmaps'", []string{"a=rtpmap:96 opus/48000/2", "a=rtpmap:111 opus/48000/2"}, 111},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadAudio(offerWith(sessC, "m=audio 9 UDP/TLS/RTP/SAVPF 111 96", tc.attrs...))
			if err != nil {
				t.Fatal(err)
			}
			p, ok := a.Opus()
			if ok != (tc.pt != 0) || p.Type != tc.pt {
				t.Errorf("Opus %+v %v, want pt %d", p, ok, tc.pt)
			}
		})
	}
}

func TestReadAudioSections(t *testing.T) {
	body := offerWith(sessC, "m=video 9 UDP/TLS/RTP/SAVPF 96\na=rtpmap:96 VP8/90000\n"+
		"m=audio 0 UDP/TLS/RTP/SAVPF 111\na=rtpmap:111 opus/48000/2\n"+
		"m=audio 9 UDP/TLS/RTP/SAVPF 112\na=rtpmap:112 opus/48000/2\na=extmap:4/sendrecv urn:x-test 1\na=extmap:bad urn:y")
	a, err := ReadAudio(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Formats) != 1 || a.Formats[0].Type != 112 {
		t.Errorf("read %+v, want the first audio with a port (pt 112)", a.Formats)
	}
	if want := []Extension{{ID: 4, URI: "urn:x-test"}}; !reflect.DeepEqual(a.Extensions, want) {
		t.Errorf("extensions %+v, want %+v", a.Extensions, want)
	}
	if a.ExtensionID("urn:y") != 0 {
		t.Errorf("an unreadable extmap was read")
	}
}

func TestReadAudioErrors(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		err  error
	}{
		{"empty", nil, ErrMalformed},
		{"garbage", []byte("hello"), ErrMalformed},
		// Answer repairs line order for SIP devices; ReadAudio reads as written, as pion does.
		{"c= after t=", []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nc=IN IP4 1.2.3.4\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"), ErrMalformed},
		{"no s= line", []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"), ErrMalformed},
		{"an m-line pion cannot read", offerWith(sessC, "m=image 4000 udptl t38"), ErrMalformed},
		{"video only", offerWith(sessC, "m=video 9 UDP/TLS/RTP/SAVPF 96"), ErrNoAudio},
		{"audio rejected", offerWith(sessC, "m=audio 0 UDP/TLS/RTP/SAVPF 111"), ErrNoAudio},
		{"no m-line", offerWith(sessC, ""), ErrNoAudio},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadAudio(tc.body)
			if !errors.Is(err, tc.err) || a != nil {
				t.Errorf("%+v %v, want %v", a, err, tc.err)
			}
		})
	}
}

// FuzzReadAudio feeds arbitrary bodies to ReadAudio: no panic, ErrMalformed exactly where
// pion/sdp refuses the body as written, else ErrNoAudio or an audio m-line with a port whose
// WebRTC verdict is Answer's.
func FuzzReadAudio(f *testing.F) {
	for _, o := range realWorldOffers {
		f.Add(o)
	}
	f.Add(offerFirefox)
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ReadAudio(body)
		var strict sdp.SessionDescription
		if pionErr := strict.Unmarshal(body); (pionErr != nil) != errors.Is(err, ErrMalformed) && len(bytes.TrimSpace(body)) > 0 {
			t.Fatalf("pion/sdp says %v, ReadAudio %v", pionErr, err)
		}
		switch {
		case errors.Is(err, ErrMalformed), errors.Is(err, ErrNoAudio):
			return
		case err != nil:
			t.Fatalf("error without a sentinel: %v", err)
		}
		if _, _, err := Answer(body, testLocal); errors.Is(err, ErrWebRTCOffer) && !a.WebRTC {
			t.Fatalf("Answer says %v, ReadAudio reads %+v", err, a)
		}
	})
}
