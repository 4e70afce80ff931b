package webrtcleg

import "sync/atomic"

// counters are the server's atomic counters; Stats snapshots them.
type counters struct {
	answered, ended, refused atomic.Uint64
}

// Stats is a snapshot of a Server's counters.
type Stats struct {
	// Calls is how many calls are in progress.
	Calls int
	// Answered counts offers answered with a participant joined; Ended counts calls that ended;
	// Refused counts WHIP/WHEP requests answered with an error status.
	Answered, Ended, Refused uint64
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{Calls: s.Calls(), Answered: s.stats.answered.Load(), Ended: s.stats.ended.Load(), Refused: s.stats.refused.Load()}
}
