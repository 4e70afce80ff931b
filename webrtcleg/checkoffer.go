package webrtcleg

// CheckOffer validates an offer as Answer does before it builds anything (RFC 8866 syntax, a
// first audio m-line with Opus over DTLS-SRTP, as sdpneg.ReadAudio reads them) and returns the
// error Answer would:
// ErrBadOffer, ErrNotWebRTC, ErrNoAudio or ErrNoOpus. A signalling side that checks a room PIN
// calls it before the PIN, so that a bad offer is answered alike whatever the PIN: the answer
// must not tell a right PIN from a wrong one.
func CheckOffer(offer string) error {
	_, err := checkOffer(offer)
	return err
}
