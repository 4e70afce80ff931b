package sdpneg

import (
	"errors"
	"testing"

	"github.com/pion/sdp/v3"
)

// FuzzAnswer feeds arbitrary bodies to Answer: it must never panic, every error must be one of
// the package's sentinels, and every answer it writes must parse back with pion/sdp (when the
// offer itself did; an offer with an m-line pion cannot read, such as T.38's "m=image ...
// udptl", is answered with that line rejected as written) and read back as an answer to the
// offer with the same codec. Seeds: testdata/fuzz/FuzzAnswer and the real-world offers.
func FuzzAnswer(f *testing.F) {
	for _, o := range realWorldOffers {
		f.Add(o)
	}
	f.Add(offerWith(sessC, "m=audio 4000 RTP/AVP 0\nm=image 4004 udptl t38"))
	f.Add(offerWith("c=IN IP4 0.0.0.0\n", "m=audio 4000 RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000", "a=sendonly"))
	sentinels := []error{ErrMalformed, ErrNoAudio, ErrNoCommonCodec, ErrSecureProfile, ErrUnsupportedProfile,
		ErrWebRTCOffer, ErrAddress}
	f.Fuzz(func(t *testing.T, offer []byte) {
		r, ans, err := Answer(offer, testLocal)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error without a sentinel: %v", err)
		}
		var strict sdp.SessionDescription
		if strict.Unmarshal(offer) == nil {
			var back sdp.SessionDescription
			if err := back.Unmarshal(ans); err != nil {
				t.Fatalf("answer does not parse with pion/sdp: %v\n%s", err, ans)
			}
		}
		back, err := ParseAnswer(ans, offer)
		if err != nil {
			t.Fatalf("answer does not read back: %v\n%s", err, ans)
		}
		if back.Codec != r.Codec || back.PayloadType != r.PayloadType || back.MediaIndex != r.MediaIndex {
			t.Fatalf("read back %v, negotiated %v", back, r)
		}
	})
}

// FuzzParseAnswer feeds arbitrary answers to confd's own offer: no panic, and a success names
// an offered codec.
func FuzzParseAnswer(f *testing.F) {
	offer, err := Offer(testLocal)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(answerAs(1, "m=audio 30000 RTP/AVP 0 96", "a=rtpmap:96 telephone-event/8000"))
	f.Add(answerAs(1, "m=audio 30000 RTP/AVP 107", "a=rtpmap:107 opus/48000/2", "a=fmtp:107 usedtx=1"))
	f.Add(answerAs(2, "m=audio 0 RTP/AVP 0"))
	f.Fuzz(func(t *testing.T, answer []byte) {
		r, err := ParseAnswer(answer, offer)
		if err != nil {
			return
		}
		if r.LocalPayloadType != 111 && r.LocalPayloadType != 0 && r.LocalPayloadType != 8 {
			t.Fatalf("accepted a codec that was not offered: %v", r)
		}
	})
}
