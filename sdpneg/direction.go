package sdpneg

// Direction is the media direction of one side of an RTP stream, as the SDP attributes
// sendrecv, sendonly, recvonly and inactive of RFC 4566 section 6 (and RFC 3264 section 5.1)
// say it, always from the point of view of the side whose SDP carries it.
//
// The zero value is SendRecv, which is also what SDP means when it names no direction
// (RFC 3264 section 5.1), so a zero Local.Direction asks for a normal two-way call.
type Direction uint8

// The bits of a Direction say what the side does NOT do, so that the zero value is SendRecv.
const (
	noSend Direction = 1
	noRecv Direction = 2
)

// The four directions.
const (
	// SendRecv sends and receives: "a=sendrecv", the default.
	SendRecv Direction = 0
	// RecvOnly receives and does not send: "a=recvonly".
	RecvOnly Direction = noSend
	// SendOnly sends and does not receive: "a=sendonly", the side that puts the other on hold.
	SendOnly Direction = noRecv
	// Inactive neither sends nor receives: "a=inactive".
	Inactive Direction = noSend | noRecv
)

// Sends reports whether the side sends media.
func (d Direction) Sends() bool { return d&noSend == 0 }

// Receives reports whether the side receives media.
func (d Direction) Receives() bool { return d&noRecv == 0 }

// Reverse returns the direction seen from the other side: what one side sends the other
// receives (RFC 3264 section 6.1: a sendonly offer is answered recvonly, recvonly is answered
// sendonly, inactive stays inactive).
func (d Direction) Reverse() Direction {
	var r Direction
	if !d.Sends() {
		r |= noRecv
	}
	if !d.Receives() {
		r |= noSend
	}
	return r
}

// And returns the direction that does only what both d and o allow: how an answerer combines
// the reverse of the offered direction with its own wish (RFC 3264 section 6.1).
func (d Direction) And(o Direction) Direction { return (d | o) & Inactive }

// String returns the SDP attribute name of the direction.
func (d Direction) String() string {
	switch d & Inactive {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	}
	return "inactive"
}

// parseDirection returns the Direction for an SDP direction attribute name.
func parseDirection(attr string) (Direction, bool) {
	switch attr {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return 0, false
}
