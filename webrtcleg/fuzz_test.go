package webrtcleg

import (
	"errors"
	"strings"
	"testing"

	"confd/sdpneg"
)

// FuzzOffer feeds arbitrary SDP to the offer checks, the candidate limit, the answer reader and
// the fmtp rewrite: no input panics, every refusal is one of the package's errors, an accepted
// offer has a direction, no more candidates than the limit are kept, and the fmtp rewrite
// leaves the rest of an answer as it was.
func FuzzOffer(f *testing.F) {
	f.Add(sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 111 0\na=rtpmap:111 opus/48000/2\na=fmtp:111 minptime=10;useinbandfec=1\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\na=sendonly\n"))
	f.Add(sdpWith("m=audio 9 UDP/TLS/RTP/SAVPF 0\na=rtpmap:0 PCMU/8000\n"))
	f.Add(sdpWith("m=video 9 UDP/TLS/RTP/SAVPF 96\na=rtpmap:96 VP8/90000\n"))
	f.Add(sdpWith("m=audio 4000 RTP/AVP 111\na=rtpmap:111 opus/48000/2\n"))
	f.Add(attackOffer("a=candidate:1 1 udp 1 192.0.2.1 9 typ host", "a=candidate:1 1 udp 1 192.0.2.1 9 typ host"))
	f.Add("v=0\r\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, offer string) {
		oa, err := checkOffer(offer)
		if err != nil {
			if !errors.Is(err, ErrBadOffer) && !errors.Is(err, ErrNoAudio) && !errors.Is(err, ErrNoOpus) && !errors.Is(err, ErrNotWebRTC) {
				t.Fatalf("unexpected error %v", err)
			}
		} else if !isDirection(oa.direction) {
			t.Fatalf("direction %q", oa.direction)
		}
		if limited, _ := limitCandidates(offer, 8); strings.Count(limited, "a=candidate:") > 8 {
			t.Fatalf("more than 8 candidates kept:\n%s", limited)
		}
		if aa, err := readAnswer(offer); err == nil {
			out := withOpusFmtp(offer, aa.opusPT, true)
			if again, err := readAnswer(out); err != nil || again.opusPT != aa.opusPT || again.direction != aa.direction {
				t.Fatalf("the fmtp rewrite changed the answer: %+v %v, was %+v", again, err, aa)
			}
		}
	})
}

// isDirection reports whether d is one of the four directions (FuzzOffer's check of an
// accepted offer).
func isDirection(d sdpneg.Direction) bool { return d&^sdpneg.Inactive == 0 }
