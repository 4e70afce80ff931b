package sipleg

// Poll implements bridge.PolledLeg: the room's tick reads the call's RTP socket itself
// (MediaSocket.Poll), so that no goroutine wakes for each packet.
func (c *call) Poll() { c.media.Poll() }
