package sdpneg

import "testing"

// BenchmarkAnswer measures one answer to a Linphone offer (audio and video): negotiation is
// per call, not per packet, so this is for capacity planning of call setup only.
func BenchmarkAnswer(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Answer(offerLinphone, testLocal); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOfferAndParseAnswer measures a dial-out: one offer and the check of its answer.
func BenchmarkOfferAndParseAnswer(b *testing.B) {
	answer := answerAs(1, "m=audio 30000 RTP/AVP 0 96", "a=rtpmap:96 telephone-event/8000")
	b.ReportAllocs()
	for b.Loop() {
		s := NewSession()
		if _, err := s.Offer(testLocal); err != nil {
			b.Fatal(err)
		}
		if _, err := s.ParseAnswer(answer); err != nil {
			b.Fatal(err)
		}
	}
}
