package webrtcleg

import "confd/sdpneg"

// isDirection reports whether d is one of the four directions (FuzzOffer's check of an
// accepted offer).
func isDirection(d sdpneg.Direction) bool { return d&^sdpneg.Inactive == 0 }
