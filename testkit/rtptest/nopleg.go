package rtptest

// NopLeg is the leg (bridge.Leg) of a participant whose output no one listens to: it drops
// every packet the room sends it and ignores Hangup. With SendTone pushing into the same
// participant it is a phone that talks and does not listen; alone, a seat in a room.
type NopLeg struct{}

// SendRTP drops pkt.
func (NopLeg) SendRTP(pkt []byte) {}

// Hangup does nothing: the test that joined the participant ends it.
func (NopLeg) Hangup(reason string) {}
