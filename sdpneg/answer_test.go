package sdpneg

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/sdp/v3"

	"confd/codec"
)

var testLocal = Local{Addr: netip.MustParseAddr("192.0.2.1"), Port: 20000}

// checkAnswer parses an answer back with pion/sdp and with this package, and checks the
// invariants every answer keeps: the offer's m-line count, media and order; port 0 on every
// line but the chosen audio; an explicit direction on the audio.
func checkAnswer(t *testing.T, offer, answer []byte, r *Result) *description {
	t.Helper()
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(answer); err != nil {
		t.Fatalf("answer does not parse with pion/sdp: %v\n%s", err, answer)
	}
	o, err := parse(offer)
	if err != nil {
		t.Fatal(err)
	}
	a, err := parse(answer)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.media) != len(o.media) {
		t.Fatalf("answer has %d m-lines, offer %d\n%s", len(a.media), len(o.media), answer)
	}
	for i, m := range a.media {
		if m.kind != o.media[i].kind || m.proto != o.media[i].proto {
			t.Errorf("m-line %d: answer %s %s, offer %s %s", i, m.kind, m.proto, o.media[i].kind, o.media[i].proto)
		}
		if i != r.MediaIndex && m.port != 0 {
			t.Errorf("m-line %d not rejected: port %d", i, m.port)
		}
	}
	am := a.media[r.MediaIndex]
	if am.port != testLocal.Port {
		t.Errorf("audio port %d, want %d", am.port, testLocal.Port)
	}
	if !strings.Contains(string(answer), "a="+r.LocalDirection.String()+"\r\n") {
		t.Errorf("answer lacks an explicit a=%s:\n%s", r.LocalDirection, answer)
	}
	// The answer, read as an answer to the offer, must give the same codec.
	back, err := ParseAnswer(answer, offer)
	if err != nil {
		t.Fatalf("answer does not read back as an answer to the offer: %v\n%s", err, answer)
	}
	if back.Codec != r.Codec || back.PayloadType != r.PayloadType {
		t.Errorf("read back %v pt %d, negotiated %v pt %d", back.Codec, back.PayloadType, r.Codec, r.PayloadType)
	}
	return a
}

// answerChecked is Answer to offer with l that fails the test on an error and holds the answer
// to checkAnswer's invariants.
func answerChecked(t *testing.T, offer []byte, l Local) (*Result, []byte) {
	t.Helper()
	r, ans, err := Answer(offer, l)
	if err != nil {
		t.Fatal(err)
	}
	checkAnswer(t, offer, ans, r)
	return r, ans
}

func TestAnswerRealWorld(t *testing.T) {
	g722 := []codec.Codec{codec.Opus, codec.G722, codec.PCMU, codec.PCMA}
	cases := []struct {
		name      string
		offer     []byte
		codecs    []codec.Codec
		want      codec.Codec
		pt        uint8
		remote    string
		rtcp      string
		mux       bool
		eventPT   uint8
		eventRate int
		send      codec.Format
		index     int
	}{
		{name: "baresip", offer: offerBaresip, want: codec.Opus, pt: 96, remote: "198.51.100.20:10370",
			rtcp: "198.51.100.20:10371", eventPT: 101, eventRate: 8000,
			send: codec.Format{Codec: codec.Opus, PacketTime: 20 * time.Millisecond, NoFEC: true, NoDTX: true, Stereo: true}}, // stereo=1: its decoder takes stereo
		{name: "linphone", offer: offerLinphone, want: codec.Opus, pt: 96, remote: "192.168.3.117:7078",
			rtcp: "192.168.3.117:7079", eventPT: 101, eventRate: 48000,
			send: codec.Format{Codec: codec.Opus, PacketTime: 20 * time.Millisecond, NoDTX: true}},
		{name: "zoiper", offer: offerZoiper, want: codec.Opus, pt: 106, remote: "10.20.30.40:52032",
			rtcp: "10.20.30.40:52032", mux: true, eventPT: 98, eventRate: 48000,
			send: codec.Format{Codec: codec.Opus, PacketTime: 20 * time.Millisecond, NoDTX: true}},
		{name: "cisco gateway, media-level c=", offer: offerCiscoGW, want: codec.PCMU, pt: 0,
			remote: "10.1.1.2:17236", rtcp: "10.1.1.2:17237", eventPT: 101, eventRate: 8000,
			send: codec.Format{Codec: codec.PCMU, PacketTime: 20 * time.Millisecond}},
		{name: "cisco spa, ptime 30", offer: offerCiscoSPA, want: codec.PCMU, pt: 0,
			remote: "10.0.0.5:16434", rtcp: "10.0.0.5:16435", eventPT: 101, eventRate: 8000,
			send: codec.Format{Codec: codec.PCMU, PacketTime: 20 * time.Millisecond}},
		{name: "polycom without G.722", offer: offerPolycom, want: codec.PCMU, pt: 0,
			remote: "192.168.1.50:2222", rtcp: "192.168.1.50:2223", eventPT: 127, eventRate: 8000,
			send: codec.Format{Codec: codec.PCMU, PacketTime: 20 * time.Millisecond}},
		{name: "polycom with G.722", offer: offerPolycom, codecs: g722, want: codec.G722, pt: 9,
			remote: "192.168.1.50:2222", rtcp: "192.168.1.50:2223", eventPT: 127, eventRate: 8000,
			send: codec.Format{Codec: codec.G722, PacketTime: 20 * time.Millisecond}},
		{name: "freeswitch", offer: offerFreeSWITCH, want: codec.Opus, pt: 102, remote: "203.0.113.10:24580",
			rtcp: "203.0.113.10:24581", eventPT: 101, eventRate: 8000,
			send: codec.Format{Codec: codec.Opus, PacketTime: 20 * time.Millisecond, Bitrate: 30000, NoDTX: true}},
		{name: "freeswitch, G.711 only engine", offer: offerFreeSWITCH, codecs: []codec.Codec{codec.PCMA, codec.PCMU},
			want: codec.PCMU, pt: 0, remote: "203.0.113.10:24580", rtcp: "203.0.113.10:24581", eventPT: 101, eventRate: 8000,
			send: codec.Format{Codec: codec.PCMU, PacketTime: 20 * time.Millisecond}},
		{name: "asterisk", offer: offerAsterisk, want: codec.PCMU, pt: 0, remote: "198.51.100.7:13354",
			rtcp: "198.51.100.7:13355", eventPT: 101, eventRate: 8000,
			send: codec.Format{Codec: codec.PCMU, PacketTime: 20 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := testLocal
			l.Codecs = tc.codecs
			r, ans := answerChecked(t, tc.offer, l)
			if r.Codec != tc.want || r.PayloadType != tc.pt || r.LocalPayloadType != tc.pt {
				t.Errorf("codec %v pt %d/%d, want %v pt %d", r.Codec, r.PayloadType, r.LocalPayloadType, tc.want, tc.pt)
			}
			if r.Remote.String() != tc.remote || r.RemoteRTCP.String() != tc.rtcp || r.RTCPMux != tc.mux {
				t.Errorf("remote %v rtcp %v mux %v, want %s %s %v", r.Remote, r.RemoteRTCP, r.RTCPMux, tc.remote, tc.rtcp, tc.mux)
			}
			te := r.TelephoneEvent
			if te.PayloadType != tc.eventPT || te.ClockRate != tc.eventRate {
				t.Errorf("telephone-event %+v, want pt %d at %d", te, tc.eventPT, tc.eventRate)
			}
			if r.RemoteDirection != SendRecv || r.LocalDirection != SendRecv {
				t.Errorf("directions %v/%v", r.LocalDirection, r.RemoteDirection)
			}
			if got := r.SendFormat(); got != tc.send {
				t.Errorf("SendFormat %+v, want %+v", got, tc.send)
			}
			if r.MediaIndex != tc.index {
				t.Errorf("media index %d", r.MediaIndex)
			}
			if strings.Count(string(ans), "a=rtpmap:") != 2 {
				t.Errorf("answer should list the codec and telephone-event only:\n%s", ans)
			}
			if tc.mux != strings.Contains(string(ans), "a=rtcp-mux") {
				t.Errorf("rtcp-mux in answer: %v, want %v", !tc.mux, tc.mux)
			}
		})
	}
}

func TestAnswerOpusParams(t *testing.T) {
	r, ans, err := Answer(offerFreeSWITCH, testLocal)
	if err != nil {
		t.Fatal(err)
	}
	want := OpusParams{Present: true, MaxPlaybackRate: 48000, MaxAverageBitrate: 30000, UseInbandFEC: true}
	if r.Opus != want {
		t.Errorf("opus params %+v, want %+v", r.Opus, want)
	}
	if !strings.Contains(string(ans), "a=fmtp:102 useinbandfec=1; usedtx=1\r\n") {
		t.Errorf("answer should ask for FEC and DTX:\n%s", ans)
	}
	if !strings.Contains(string(ans), "a=rtpmap:102 opus/48000/2\r\n") {
		t.Errorf("answer opus rtpmap:\n%s", ans)
	}
	r, _, err = Answer(offerZoiper, testLocal)
	if err != nil {
		t.Fatal(err)
	}
	if r.Opus.SpropMaxCaptureRate != 16000 || !r.Opus.UseInbandFEC || r.Opus.UseDTX {
		t.Errorf("zoiper opus params %+v", r.Opus)
	}
	p := ParseOpusParams(" Stereo = 1 ;SPROP-STEREO=1;usedtx=1; cbr=1;maxplaybackrate=x")
	if !p.Stereo || !p.SpropStereo || !p.UseDTX || !p.CBR || p.MaxPlaybackRate != 0 {
		t.Errorf("lenient fmtp parse: %+v", p)
	}
}

// offerWith builds a one-audio-line offer around the given m= and extra lines.
// Session-level a= lines in session go after t=, as RFC 4566 orders them.
func offerWith(session, mline string, attrs ...string) []byte {
	var conn, sessAttrs string
	for _, l := range strings.SplitAfter(session, "\n") {
		if strings.HasPrefix(l, "a=") {
			sessAttrs += l
		} else {
			conn += l
		}
	}
	s := "v=0\no=- 1 1 IN IP4 203.0.113.5\ns=-\n" + conn + "t=0 0\n" + sessAttrs + mline + "\n"
	for _, a := range attrs {
		s += a + "\n"
	}
	return []byte(s)
}

const sessC = "c=IN IP4 203.0.113.5\n"

func TestAnswerDirections(t *testing.T) {
	cases := []struct {
		name   string
		offer  []byte
		local  Direction
		remote Direction
		answer Direction
	}{
		{"no direction means sendrecv", offerWith(sessC, "m=audio 4000 RTP/AVP 0"), SendRecv, SendRecv, SendRecv},
		{"sendonly hold", offerWith(sessC, "m=audio 4000 RTP/AVP 0", "a=sendonly"), SendRecv, SendOnly, RecvOnly},
		{"inactive", offerWith(sessC, "m=audio 4000 RTP/AVP 0", "a=inactive"), SendRecv, Inactive, Inactive},
		{"recvonly listener", offerWith(sessC, "m=audio 4000 RTP/AVP 0", "a=recvonly"), SendRecv, RecvOnly, SendOnly},
		{"session-level sendonly", offerWith(sessC+"a=sendonly\n", "m=audio 4000 RTP/AVP 0"), SendRecv, SendOnly, RecvOnly},
		{"media level beats session level", offerWith(sessC+"a=sendonly\n", "m=audio 4000 RTP/AVP 0", "a=sendrecv"), SendRecv, SendRecv, SendRecv},
		{"old hold c=0.0.0.0", offerWith("c=IN IP4 0.0.0.0\n", "m=audio 4000 RTP/AVP 0"), SendRecv, SendOnly, RecvOnly},
		{"c=0.0.0.0 and recvonly", offerWith("c=IN IP4 0.0.0.0\n", "m=audio 4000 RTP/AVP 0", "a=recvonly"), SendRecv, Inactive, Inactive},
		{"we hold", offerWith(sessC, "m=audio 4000 RTP/AVP 0"), SendOnly, SendRecv, SendOnly},
		{"we hold, they hold", offerWith(sessC, "m=audio 4000 RTP/AVP 0", "a=sendonly"), SendOnly, SendOnly, Inactive},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := testLocal
			l.Direction = tc.local
			r, _ := answerChecked(t, tc.offer, l)
			if r.RemoteDirection != tc.remote || r.LocalDirection != tc.answer {
				t.Errorf("remote %v answer %v, want %v %v", r.RemoteDirection, r.LocalDirection, tc.remote, tc.answer)
			}
		})
	}
}

func TestAnswerMediaLines(t *testing.T) {
	cases := []struct {
		name     string
		offer    []byte
		index    int
		rejected []string // expected lines in the answer
	}{
		{name: "video next to audio (no BUNDLE)", offer: offerLinphone, index: 0,
			rejected: []string{"m=video 0 RTP/AVP 96 97\r\n"}},
		{name: "video first", offer: offerWith(sessC, "m=video 5000 RTP/AVP 96\na=rtpmap:96 VP8/90000\nm=audio 4000 RTP/AVP 8"), index: 1,
			rejected: []string{"m=video 0 RTP/AVP 96\r\n"}},
		{name: "two audio lines", offer: offerWith(sessC, "m=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 8"), index: 0,
			rejected: []string{"m=audio 0 RTP/AVP 8\r\n"}},
		{name: "first audio has no common codec", offer: offerWith(sessC, "m=audio 4000 RTP/AVP 18\nm=audio 4002 RTP/AVP 8"), index: 1,
			rejected: []string{"m=audio 0 RTP/AVP 18\r\n"}},
		{name: "disabled audio then audio", offer: offerWith(sessC, "m=audio 0 RTP/AVP 0\nm=audio 4002 RTP/AVP 8"), index: 1,
			rejected: []string{"m=audio 0 RTP/AVP 0\r\n"}},
		{name: "SDES line then plain fallback", offer: offerWith(sessC,
			"m=audio 4000 RTP/SAVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\nm=audio 4002 RTP/AVP 0"),
			index: 1, rejected: []string{"m=audio 0 RTP/SAVP 0\r\n"}},
		{name: "T.38 image line", offer: offerWith(sessC, "m=audio 4000 RTP/AVP 0\nm=image 4004 udptl t38\na=T38FaxVersion:0"),
			index: 0, rejected: []string{"m=image 0 udptl t38\r\n"}},
		{name: "AVPF", offer: offerWith(sessC, "m=audio 4000 RTP/AVPF 0"), index: 0,
			rejected: []string{"m=audio 20000 RTP/AVPF 0\r\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, ans, err := Answer(tc.offer, testLocal)
			if err != nil {
				t.Fatal(err)
			}
			if r.MediaIndex != tc.index {
				t.Errorf("media index %d, want %d", r.MediaIndex, tc.index)
			}
			for _, l := range tc.rejected {
				if !strings.Contains(string(ans), l) {
					t.Errorf("answer lacks %q:\n%s", l, ans)
				}
			}
			if strings.HasPrefix(tc.name, "T.38") {
				return // pion/sdp itself cannot read "m=image ... udptl"
			}
			checkAnswer(t, tc.offer, ans, r)
		})
	}
}

func TestAnswerAddresses(t *testing.T) {
	cases := []struct {
		name       string
		offer      []byte
		remote     string
		rtcp       string
		mux        bool
		noRTCPMux  bool
		answerRTCP bool
		localRTCP  int
	}{
		{name: "session-level c= only", offer: offerWith(sessC, "m=audio 4000 RTP/AVP 0"), remote: "203.0.113.5:4000", rtcp: "203.0.113.5:4001"},
		{name: "media-level c= only", offer: offerWith("", "m=audio 4000 RTP/AVP 0", "c=IN IP4 203.0.113.9"), remote: "203.0.113.9:4000", rtcp: "203.0.113.9:4001"},
		{name: "media over session", offer: offerWith(sessC, "m=audio 4000 RTP/AVP 0", "c=IN IP4 203.0.113.9"), remote: "203.0.113.9:4000", rtcp: "203.0.113.9:4001"},
		{name: "a=rtcp port", offer: offerWith(sessC, "m=audio 4000 RTP/AVP 0", "a=rtcp:4011"), remote: "203.0.113.5:4000", rtcp: "203.0.113.5:4011"},
		{name: "a=rtcp address", offer: offerWith(sessC, "m=audio 4000 RTP/AVP 0", "a=rtcp:4011 IN IP4 203.0.113.77"), remote: "203.0.113.5:4000", rtcp: "203.0.113.77:4011"},
		{name: "rtcp-mux", offer: offerWith(sessC, "m=audio 4000 RTP/AVP 0", "a=rtcp-mux"), remote: "203.0.113.5:4000", rtcp: "203.0.113.5:4000", mux: true},
		{name: "rtcp-mux declined", offer: offerWith(sessC, "m=audio 4000 RTP/AVP 0", "a=rtcp-mux"), remote: "203.0.113.5:4000", rtcp: "203.0.113.5:4001", noRTCPMux: true},
		{name: "IPv6", offer: offerWith("c=IN IP6 2001:db8::5\n", "m=audio 4000 RTP/AVP 0"), remote: "[2001:db8::5]:4000", rtcp: "[2001:db8::5]:4001"},
		{name: "our own RTCP port", offer: offerWith(sessC, "m=audio 4000 RTP/AVP 0"), remote: "203.0.113.5:4000", rtcp: "203.0.113.5:4001", localRTCP: 30001, answerRTCP: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := testLocal
			l.NoRTCPMux = tc.noRTCPMux
			l.RTCPPort = tc.localRTCP
			r, ans := answerChecked(t, tc.offer, l)
			if r.Remote.String() != tc.remote || r.RemoteRTCP.String() != tc.rtcp || r.RTCPMux != tc.mux {
				t.Errorf("remote %v rtcp %v mux %v, want %s %s %v", r.Remote, r.RemoteRTCP, r.RTCPMux, tc.remote, tc.rtcp, tc.mux)
			}
			if tc.answerRTCP != strings.Contains(string(ans), "a=rtcp:30001\r\n") {
				t.Errorf("a=rtcp in answer, want %v:\n%s", tc.answerRTCP, ans)
			}
			if !strings.Contains(string(ans), "c=IN IP4 192.0.2.1\r\n") {
				t.Errorf("answer c= line:\n%s", ans)
			}
		})
	}
	l := testLocal
	l.Addr = netip.MustParseAddr("2001:db8::1")
	_, ans, err := Answer(offerAsterisk, l)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ans), "c=IN IP6 2001:db8::1\r\n") || !strings.Contains(string(ans), " IN IP6 2001:db8::1\r\n") {
		t.Errorf("IPv6 local address:\n%s", ans)
	}
}

func TestAnswerPacketTime(t *testing.T) {
	cases := []struct {
		name    string
		attrs   []string
		local   time.Duration
		send    time.Duration
		answer  string
		ptime   time.Duration
		maxtime time.Duration
	}{
		{name: "none", send: 20 * time.Millisecond, answer: "a=ptime:20"},
		{name: "40", attrs: []string{"a=ptime:40"}, send: 40 * time.Millisecond, answer: "a=ptime:40", ptime: 40 * time.Millisecond},
		{name: "10 rounds up to 20", attrs: []string{"a=ptime:10"}, send: 20 * time.Millisecond, answer: "a=ptime:20", ptime: 10 * time.Millisecond},
		{name: "60 capped by maxptime 40", attrs: []string{"a=ptime:60", "a=maxptime:40"}, send: 40 * time.Millisecond, answer: "a=ptime:40", ptime: 60 * time.Millisecond, maxtime: 40 * time.Millisecond},
		{name: "200 capped at 120", attrs: []string{"a=ptime:200"}, send: 120 * time.Millisecond, answer: "a=ptime:120", ptime: 200 * time.Millisecond},
		{name: "fractional", attrs: []string{"a=ptime:20.0"}, send: 20 * time.Millisecond, answer: "a=ptime:20", ptime: 20 * time.Millisecond},
		{name: "garbage ignored", attrs: []string{"a=ptime:abc"}, send: 20 * time.Millisecond, answer: "a=ptime:20"},
		{name: "local ptime wins in the answer", attrs: []string{"a=ptime:40"}, local: 20 * time.Millisecond, send: 40 * time.Millisecond, answer: "a=ptime:20", ptime: 40 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := testLocal
			l.PacketTime = tc.local
			offer := offerWith(sessC, "m=audio 4000 RTP/AVP 8", tc.attrs...)
			r, ans := answerChecked(t, offer, l)
			if r.SendFormat().PacketTime != tc.send || r.PacketTime != tc.ptime || r.MaxPacketTime != tc.maxtime {
				t.Errorf("send %v ptime %v maxptime %v", r.SendFormat().PacketTime, r.PacketTime, r.MaxPacketTime)
			}
			if !strings.Contains(string(ans), tc.answer+"\r\n") {
				t.Errorf("answer lacks %s:\n%s", tc.answer, ans)
			}
		})
	}
}

func TestAnswerTelephoneEvent(t *testing.T) {
	cases := []struct {
		name  string
		m     string
		attrs []string
		pt    uint8
		rate  int
		no    bool
	}{
		{name: "opus with 48000", m: "m=audio 4000 RTP/AVP 111 101 110", attrs: []string{"a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/8000", "a=rtpmap:110 telephone-event/48000"}, pt: 110, rate: 48000},
		{name: "opus with 8000 only", m: "m=audio 4000 RTP/AVP 111 101", attrs: []string{"a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/8000"}, pt: 101, rate: 8000},
		{name: "PCMU prefers 8000", m: "m=audio 4000 RTP/AVP 0 110 101", attrs: []string{"a=rtpmap:110 telephone-event/48000", "a=rtpmap:101 telephone-event/8000"}, pt: 101, rate: 8000},
		{name: "PCMU with 48000 only: none", m: "m=audio 4000 RTP/AVP 0 110", attrs: []string{"a=rtpmap:110 telephone-event/48000"}},
		{name: "upper case name", m: "m=audio 4000 RTP/AVP 0 101", attrs: []string{"a=rtpmap:101 TELEPHONE-EVENT/8000"}, pt: 101, rate: 8000},
		{name: "none offered", m: "m=audio 4000 RTP/AVP 0"},
		{name: "declined locally", m: "m=audio 4000 RTP/AVP 0 101", attrs: []string{"a=rtpmap:101 telephone-event/8000"}, no: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := testLocal
			l.NoTelephoneEvent = tc.no
			offer := offerWith(sessC, tc.m, tc.attrs...)
			r, ans := answerChecked(t, offer, l)
			te := r.TelephoneEvent
			if te.PayloadType != tc.pt || te.ClockRate != tc.rate || te.Present() != (tc.rate != 0) {
				t.Errorf("telephone-event %+v", te)
			}
			if (tc.rate != 0) != strings.Contains(string(ans), "telephone-event") {
				t.Errorf("answer telephone-event presence wrong:\n%s", ans)
			}
		})
	}
}

func TestAnswerErrors(t *testing.T) {
	cases := []struct {
		name   string
		offer  []byte
		err    error
		status int
		text   string
	}{
		{"no common codec", offerWith(sessC, "m=audio 4000 RTP/AVP 18 3 101", "a=rtpmap:101 telephone-event/8000"), ErrNoCommonCodec, 488, "G729/8000, GSM/8000"},
		{"dynamic codec unknown", offerWith(sessC, "m=audio 4000 RTP/AVP 97", "a=rtpmap:97 AMR-WB/16000"), ErrNoCommonCodec, 488, "AMR-WB/16000"},
		{"opus at a wrong clock", offerWith(sessC, "m=audio 4000 RTP/AVP 97", "a=rtpmap:97 opus/16000"), ErrNoCommonCodec, 488, "opus/16000"},
		{"video only", offerWith(sessC, "m=video 5000 RTP/AVP 96", "a=rtpmap:96 VP8/90000"), ErrNoAudio, 488, "none is audio"},
		{"audio disabled", offerWith(sessC, "m=audio 0 RTP/AVP 0"), ErrNoAudio, 488, ""},
		{"no m-line", offerWith(sessC, ""), ErrNoAudio, 488, ""},
		{"SDES", offerWith(sessC, "m=audio 4000 RTP/SAVP 0", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"), ErrSecureProfile, 488, "SDES"},
		{"SAVPF without fingerprint", offerWith(sessC, "m=audio 4000 RTP/SAVPF 0"), ErrSecureProfile, 488, ""},
		{"TCP RTP", offerWith(sessC, "m=audio 4000 TCP/RTP/AVP 0"), ErrUnsupportedProfile, 488, "TCP/RTP/AVP"},
		{"WebRTC", offerChromium, ErrWebRTCOffer, 0, "UDP/TLS/RTP/SAVPF"},
		{"old WebRTC RTP/SAVPF with fingerprint", offerWith(sessC+"a=fingerprint:sha-256 AA:BB\n", "m=audio 4000 RTP/SAVPF 0"), ErrWebRTCOffer, 0, ""},
		{"no c= anywhere", offerWith("", "m=audio 4000 RTP/AVP 0"), ErrAddress, 488, "no c= line"},
		{"host name in c=", offerWith("c=IN IP4 pbx.example.com\n", "m=audio 4000 RTP/AVP 0"), ErrAddress, 488, "pbx.example.com"},
		{"garbage", []byte("hello world"), ErrMalformed, 400, ""},
		{"empty", nil, ErrMalformed, 400, ""},
		{"bad version", []byte("v=1\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n"), ErrMalformed, 400, ""},
		{"bad port", offerWith(sessC, "m=audio 99999 RTP/AVP 0"), ErrMalformed, 400, ""},
		{"no t= line", []byte("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\n"), ErrMalformed, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, ans, err := Answer(tc.offer, testLocal)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if r != nil || ans != nil {
				t.Errorf("result or answer with an error")
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q does not say %q", err, tc.text)
			}
			rej, ok := RejectionFor(err)
			if ok != (tc.status != 0) || rej.Status != tc.status {
				t.Errorf("rejection %+v %v, want status %d", rej, ok, tc.status)
			}
		})
	}
}

func TestAnswerBadLocal(t *testing.T) {
	for _, l := range []Local{
		{Port: 4000},
		{Addr: testLocal.Addr},
		{Addr: testLocal.Addr, Port: 70000},
		{Addr: testLocal.Addr, Port: 4000, Codecs: []codec.Codec{codec.Codec(99)}},
		{Addr: testLocal.Addr, Port: 4000, Codecs: []codec.Codec{codec.PCMU, codec.PCMU}},
		{Addr: testLocal.Addr, Port: 4000, PacketTime: time.Second},
		{Addr: testLocal.Addr, Port: 4000, Direction: 7},
	} {
		if _, _, err := Answer(offerAsterisk, l); !errors.Is(err, ErrLocal) {
			t.Errorf("%+v: err %v, want ErrLocal", l, err)
		}
		if _, err := Offer(l); !errors.Is(err, ErrLocal) {
			t.Errorf("offer %+v: err %v, want ErrLocal", l, err)
		}
	}
}

func TestAnswerTolerance(t *testing.T) {
	// LF line ends, blank lines and trailing blanks, as some phones and hand-written tests send.
	offer := []byte("v=0\no=- 1 1 IN IP4 203.0.113.5 \n\ns=-\nc=IN IP4 203.0.113.5\nt=0 0\nm=audio 4000 RTP/AVP 8 0\n\n")
	r, _ := answerChecked(t, offer, testLocal)
	if r.Codec != codec.PCMA {
		t.Errorf("codec %v", r.Codec)
	}
	// Static payload types with no rtpmap; a wrong rtpmap on a static number wins.
	offer = offerWith(sessC, "m=audio 4000 RTP/AVP 0 8", "a=rtpmap:0 G729/8000")
	r, _, err := Answer(offer, testLocal)
	if err != nil || r.Codec != codec.PCMA {
		t.Errorf("rtpmap on a static payload type: %v %v", r, err)
	}
}

func TestDirection(t *testing.T) {
	for d, want := range map[Direction][4]string{
		SendRecv: {"sendrecv", "sendrecv", "true", "true"},
		SendOnly: {"sendonly", "recvonly", "true", "false"},
		RecvOnly: {"recvonly", "sendonly", "false", "true"},
		Inactive: {"inactive", "inactive", "false", "false"},
	} {
		got := [4]string{d.String(), d.Reverse().String(), boolStr(d.Sends()), boolStr(d.Receives())}
		if got != want {
			t.Errorf("%v: %v, want %v", d, got, want)
		}
	}
	if SendOnly.And(RecvOnly) != Inactive || SendRecv.And(SendOnly) != SendOnly {
		t.Error("And")
	}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestAnswerSloppyOrder(t *testing.T) {
	for name, o := range map[string]string{
		"c= after t=":         "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0\n",
		"no s= line":          "v=0\no=- 1 1 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
		"b= before c=":        "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nb=AS:64\nc=IN IP4 1.2.3.4\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
		"media a= before c=":  "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\nm=audio 4000 RTP/AVP 0\na=sendrecv\nc=IN IP4 1.2.3.4\nb=AS:64\n",
		"session a= before t": "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\na=sendonly\nc=IN IP4 1.2.3.4\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
		"c=IN IP4 addr/ttl":   "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4/127\nt=0 0\nm=audio 4000 RTP/AVP 0\n",
	} {
		t.Run(name, func(t *testing.T) {
			r, _ := answerChecked(t, []byte(o), testLocal)
			if r.Remote.String() != "1.2.3.4:4000" {
				t.Errorf("remote %v", r.Remote)
			}
		})
	}
	// A line type SDP does not define still makes the body malformed (RFC 4566 section 5).
	if _, _, err := Answer([]byte("v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nx=1\nc=IN IP4 1.2.3.4\nt=0 0\nm=audio 4000 RTP/AVP 0\n"), testLocal); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown line type: %v", err)
	}
}
