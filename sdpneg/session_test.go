package sdpneg

import (
	"errors"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"

	"confd/codec"
)

// answerAs writes what a remote answerer would: the m-lines of offer, with audio answered by
// the given m= line and attributes.
func answerAs(offerLines int, audio string, attrs ...string) []byte {
	s := "v=0\no=bob 7 7 IN IP4 198.51.100.99\ns=-\nc=IN IP4 198.51.100.99\nt=0 0\n" + audio + "\n"
	for _, a := range attrs {
		s += a + "\n"
	}
	for i := 1; i < offerLines; i++ {
		s += "m=video 0 RTP/AVP 96\n"
	}
	return []byte(s)
}

func TestOffer(t *testing.T) {
	l := testLocal
	l.Codecs = []codec.Codec{codec.Opus, codec.PCMU, codec.PCMA, codec.G722}
	s := NewSession()
	offer, err := s.Offer(l)
	if err != nil {
		t.Fatal(err)
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(offer); err != nil {
		t.Fatalf("offer does not parse: %v\n%s", err, offer)
	}
	for _, want := range []string{
		"m=audio 20000 RTP/AVP 111 0 8 9 110 101\r\n",
		"a=rtpmap:111 opus/48000/2\r\n", "a=fmtp:111 useinbandfec=1; usedtx=1\r\n",
		"a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:8 PCMA/8000\r\n", "a=rtpmap:9 G722/8000\r\n",
		"a=rtpmap:110 telephone-event/48000\r\n", "a=rtpmap:101 telephone-event/8000\r\n",
		"a=fmtp:101 0-15\r\n", "a=ptime:20\r\n", "a=sendrecv\r\n", "a=rtcp-mux\r\n",
		"c=IN IP4 192.0.2.1\r\n",
	} {
		if !strings.Contains(string(offer), want) {
			t.Errorf("offer lacks %q:\n%s", want, offer)
		}
	}
	// Without Opus there is no telephone-event/48000.
	l2 := testLocal
	l2.Codecs = []codec.Codec{codec.PCMA}
	o2, err := Offer(l2)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(o2), "/48000") || !strings.Contains(string(o2), "m=audio 20000 RTP/AVP 8 101\r\n") {
		t.Errorf("G.711-only offer:\n%s", o2)
	}

	// The answerer picks PCMU, renumbers telephone-event and sends rtcp-mux.
	r, err := s.ParseAnswer(answerAs(1, "m=audio 30000 RTP/AVP 0 96",
		"a=rtpmap:0 PCMU/8000", "a=rtpmap:96 telephone-event/8000", "a=rtcp-mux", "a=ptime:20"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Codec != codec.PCMU || r.PayloadType != 0 || r.Remote.String() != "198.51.100.99:30000" || !r.RTCPMux {
		t.Errorf("result %v", r)
	}
	if te := r.TelephoneEvent; te.PayloadType != 96 || te.LocalPayloadType != 101 || te.ClockRate != 8000 {
		t.Errorf("telephone-event %+v", te)
	}
	if r.LocalDirection != SendRecv || r.RemoteDirection != SendRecv {
		t.Errorf("directions %v %v", r.LocalDirection, r.RemoteDirection)
	}
	if _, err := s.ParseAnswer(offer); !errors.Is(err, ErrNoOffer) {
		t.Errorf("second answer: %v", err)
	}
}

func TestParseAnswer(t *testing.T) {
	offer, err := Offer(testLocal)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		answer []byte
		err    error
		codec  codec.Codec
		pt     uint8
		local  uint8
		dir    Direction
		n      int
	}{
		{name: "opus renumbered", answer: answerAs(1, "m=audio 30000 RTP/AVP 107 110", "a=rtpmap:107 opus/48000/2", "a=fmtp:107 useinbandfec=1", "a=rtpmap:110 telephone-event/48000"),
			codec: codec.Opus, pt: 107, local: 111, n: 1},
		{name: "several codecs accepted", answer: answerAs(1, "m=audio 30000 RTP/AVP 8 0"), codec: codec.PCMA, pt: 8, local: 8, n: 2},
		{name: "unknown codec listed first", answer: answerAs(1, "m=audio 30000 RTP/AVP 18 0"), codec: codec.PCMU, pt: 0, local: 0, n: 1},
		{name: "recvonly answer", answer: answerAs(1, "m=audio 30000 RTP/AVP 0", "a=recvonly"), codec: codec.PCMU, local: 0, dir: SendOnly, n: 1},
		{name: "sendonly answer", answer: answerAs(1, "m=audio 30000 RTP/AVP 0", "a=sendonly"), codec: codec.PCMU, local: 0, dir: RecvOnly, n: 1},
		{name: "not offered", answer: answerAs(1, "m=audio 30000 RTP/AVP 18"), err: ErrNotOffered},
		{name: "G722 not offered", answer: answerAs(1, "m=audio 30000 RTP/AVP 9"), err: ErrNotOffered},
		{name: "rejected", answer: answerAs(1, "m=audio 0 RTP/AVP 0"), err: ErrRejected},
		{name: "extra m-line", answer: answerAs(2, "m=audio 30000 RTP/AVP 0"), err: ErrAnswerMismatch},
		{name: "wrong media", answer: answerAs(1, "m=video 30000 RTP/AVP 0"), err: ErrAnswerMismatch},
		{name: "wrong profile", answer: answerAs(1, "m=audio 30000 RTP/SAVP 0"), err: ErrAnswerMismatch},
		{name: "malformed", answer: []byte("v=0\r\nbroken"), err: ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseAnswer(tc.answer, offer)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if r.Codec != tc.codec || r.PayloadType != tc.pt || r.LocalPayloadType != tc.local || len(r.Accepted) != tc.n {
				t.Errorf("result %v local pt %d accepted %v", r, r.LocalPayloadType, r.Accepted)
			}
			if r.LocalDirection != tc.dir {
				t.Errorf("local direction %v, want %v", r.LocalDirection, tc.dir)
			}
		})
	}
}

func TestSessionVersionsAndLayout(t *testing.T) {
	s := NewSession()
	id, v := s.Origin()
	r, ans1, err := s.Answer(offerLinphone, testLocal)
	if err != nil {
		t.Fatal(err)
	}
	checkAnswer(t, offerLinphone, ans1, r)
	if gotID, gotV := s.Origin(); gotID != id || gotV != v {
		t.Fatalf("origin changed on the first SDP")
	}
	if r.Unchanged {
		t.Error("first offer reported unchanged")
	}
	// The same offer again (a session refresh): same answer, same version, Unchanged.
	r, ans2, err := s.Answer(offerLinphone, testLocal)
	if err != nil {
		t.Fatal(err)
	}
	if string(ans1) != string(ans2) || !r.Unchanged {
		t.Errorf("refresh changed the answer or was not seen as unchanged")
	}
	// The remote puts us on hold: the answer changes, the version goes up by one.
	hold := []byte(strings.Replace(strings.Replace(string(offerLinphone), "o=alice 3357 3332", "o=alice 3357 3333", 1),
		"a=rtcp-fb:* ccm tmmbr\r\nm=video", "a=rtcp-fb:* ccm tmmbr\r\na=sendonly\r\nm=video", 1))
	r, ans3, err := s.Answer(hold, testLocal)
	if err != nil {
		t.Fatal(err)
	}
	if r.LocalDirection != RecvOnly || r.Unchanged {
		t.Errorf("hold: %v unchanged=%v", r.LocalDirection, r.Unchanged)
	}
	if _, v3 := s.Origin(); v3 != v+1 {
		t.Errorf("version %d after a change, want %d", v3, v+1)
	}
	if !strings.Contains(string(ans3), "a=recvonly\r\n") {
		t.Errorf("hold answer:\n%s", ans3)
	}
	// confd re-offers (say, to put the remote on hold): the m-line layout of the dialog stays
	// (audio, then a rejected video), Opus keeps the number 96 and telephone-event/48000 keeps
	// 101, the numbers the dialog bound, and the version goes up again.
	l := testLocal
	l.Direction = SendOnly
	reoffer, err := s.Offer(l)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"m=audio 20000 RTP/AVP 96 0 8 101 ", "a=rtpmap:96 opus/48000/2\r\n",
		"a=rtpmap:101 telephone-event/48000\r\n", "a=sendonly\r\n", "m=video 0 RTP/AVP 96 97\r\n"} {
		if !strings.Contains(string(reoffer), want) {
			t.Errorf("re-offer lacks %q:\n%s", want, reoffer)
		}
	}
	if _, v4 := s.Origin(); v4 != v+2 {
		t.Errorf("version %d after re-offer, want %d", v4, v+2)
	}
	if !strings.Contains(string(reoffer), "o=confd "+uitoa(id)+" "+uitoa(v+2)+" IN IP4") {
		t.Errorf("re-offer o= line:\n%s", reoffer)
	}
	// Linphone answers recvonly.
	ans := "v=0\r\no=alice 3357 3334 IN IP4 192.168.3.117\r\ns=Talk\r\nc=IN IP4 192.168.3.117\r\nt=0 0\r\n" +
		"m=audio 7078 RTP/AVP 96 101\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/48000\r\na=recvonly\r\n" +
		"m=video 0 RTP/AVP 96\r\n"
	r, err = s.ParseAnswer([]byte(ans))
	if err != nil {
		t.Fatal(err)
	}
	if r.LocalDirection != SendOnly || r.RemoteDirection != RecvOnly || r.Codec != codec.Opus {
		t.Errorf("held: %v", r)
	}
	// The same re-offer again changes nothing and keeps the version.
	if again, err := s.Offer(l); err != nil || string(again) != string(reoffer) {
		t.Errorf("unchanged re-offer differs: %v", err)
	}
}

func TestSessionFailedAnswerChangesNothing(t *testing.T) {
	s := NewSession()
	_, ans1, err := s.Answer(offerAsterisk, testLocal)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Answer([]byte("junk"), testLocal); err == nil {
		t.Fatal("junk answered")
	}
	_, ans2, err := s.Answer(offerAsterisk, testLocal)
	if err != nil || string(ans1) != string(ans2) {
		t.Errorf("a failed negotiation disturbed the session: %v", err)
	}
}

func TestRejectionFor(t *testing.T) {
	for _, tc := range []struct {
		err     error
		status  int
		warning int
		ok      bool
	}{
		{nil, 0, 0, false},
		{ErrWebRTCOffer, 0, 0, false},
		{errors.New("other"), 0, 0, false},
		{ErrMalformed, 400, 0, true},
		{ErrNoCommonCodec, 488, 305, true},
		{ErrNoAudio, 488, 304, true},
		{ErrSecureProfile, 488, 302, true},
		{ErrAddress, 488, 301, true},
		{ErrLocal, 500, 0, true},
	} {
		r, ok := RejectionFor(tc.err)
		if ok != tc.ok || r.Status != tc.status || r.Warning != tc.warning {
			t.Errorf("%v: %+v %v", tc.err, r, ok)
		}
		if ok && (r.Reason == "" || strings.HasPrefix(r.Text, "sdpneg:")) {
			t.Errorf("%v: reason %q text %q", tc.err, r.Reason, r.Text)
		}
	}
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

func TestSessionReofferKeepsProfile(t *testing.T) {
	s := NewSession()
	offer := offerWith(sessC, "m=video 5000 RTP/AVP 96\na=rtpmap:96 VP8/90000\nm=audio 4000 RTP/AVPF 8 101", "a=rtpmap:101 telephone-event/8000")
	if _, _, err := s.Answer(offer, testLocal); err != nil {
		t.Fatal(err)
	}
	l := testLocal
	l.Codecs = []codec.Codec{codec.PCMA}
	reoffer, err := s.Offer(l)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(reoffer), "m=video 0 RTP/AVP 96\r\nm=audio 20000 RTP/AVPF 8 101\r\n") {
		t.Errorf("re-offer layout:\n%s", reoffer)
	}
}
