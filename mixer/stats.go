package mixer

import "sync/atomic"

// Stats is a snapshot of the mixer's counters. Totals count since New; "last tick" fields
// describe the most recent Tick.
type Stats struct {
	// Ticks is the number of ticks run.
	Ticks uint64
	// Participants is the number of participants.
	Participants int
	// Talkers is the number of mixed talkers after the last tick's selection.
	Talkers int
	// Groups is the number of output groups that encoded a packet in the last tick.
	Groups int
	// PrivateListeners is the number of listeners with their own encoder after the last tick.
	PrivateListeners int
	// StereoListeners is the number of listeners that heard a stereo mix in the last tick
	// (stereo.go); 0 in a room without pans.
	StereoListeners int
	// EncodesLastTick and DecodesLastTick count the last tick's Encoder.Encode calls
	// (including the priming of a private encoder) and Source.Read calls.
	EncodesLastTick, DecodesLastTick int
	// Encodes and Decodes are the totals of the above.
	Encodes, Decodes uint64
	// EncodeErrors counts failed encodes (the packet is sent as nothing) and encoders that
	// could not be made.
	EncodeErrors uint64
	// EncodersMade counts encoders created; it stops growing once the pools are warm.
	EncodersMade uint64
}

// counters are written by the owner's goroutine in Tick and read by Stats from any goroutine.
type counters struct {
	ticks, encodes, decodes, encodeErrors, encodersMade atomic.Uint64
	participants, talkers, groups, private, stereo      atomic.Int64
	encodesLast, decodesLast                            atomic.Int64
}

// Stats returns a snapshot of the counters. Unlike every other method it may be called from
// any goroutine, concurrently with Tick.
func (m *Mixer) Stats() Stats {
	c := &m.stats
	return Stats{
		Ticks:            c.ticks.Load(),
		Participants:     int(c.participants.Load()),
		Talkers:          int(c.talkers.Load()),
		Groups:           int(c.groups.Load()),
		PrivateListeners: int(c.private.Load()),
		StereoListeners:  int(c.stereo.Load()),
		EncodesLastTick:  int(c.encodesLast.Load()),
		DecodesLastTick:  int(c.decodesLast.Load()),
		Encodes:          c.encodes.Load(),
		Decodes:          c.decodes.Load(),
		EncodeErrors:     c.encodeErrors.Load(),
		EncodersMade:     c.encodersMade.Load(),
	}
}
