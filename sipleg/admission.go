package sipleg

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/internal/guard"
	"confd/sipua"
)

// door is the per-source admission of the SIP listener (issue 8, pike-style): what one
// address may start, so that a flood from it costs confd a bounded amount and other callers
// are still served.
//
//   - requests: every request outside a dialog (and every in-dialog request that matches no
//     dialog) takes a token at RequestRate; it is checked on the socket, before sipgo makes a
//     transaction of it, so a refused request costs no state.
//   - calls: a new INVITE takes a token at InviteRate and a place under CallsPerSource and
//     MaxCalls, held until the call ends (or its 2xx goes un-ACKed for Timer H).
//   - answers: a refusal is answered 503 with Retry-After only while this bucket (as fast as
//     RequestRate; for a trunk, its trunkRequests) has tokens; a source far over its rate gets
//     silence, so the answers cannot be turned into a reflector.
//   - broken: a request the SIP rules refuse (validator) is answered only while this bucket,
//     as fast as RequestRate, has tokens, a trunk's included: a trunk's address is what an
//     attacker forging sources would aim the answers at, and a trunk sends few broken requests.
//
// Trunks are exempt from the other per-source limits but for a higher cap on calls awaiting their
// ACK (trunkPending) and a rate of their own for requests other than INVITE (trunkRequests,
// dropped beyond it: a trunk's address is what forged requests would aim confd's answers at);
// calls from them count against MaxCalls.
type door struct {
	requests, calls, answers, broken *guard.Admission
	// pending caps the calls a source has still waiting for their ACK (PendingPerSource): each
	// holds media ports for up to Timer H, and a source that confirms none is not a phone.
	// trunkPending is the same cap for trunks, higher (TrunkPendingPerSource): their exemption
	// from the other limits must not let forged INVITEs hold every call place.
	pending, trunkPending *guard.Admission
	trunkRequests         *guard.Admission
	trunks                []netip.Prefix

	// dropped counts requests refused without an answer; refused those answered 503.
	dropped, refused atomic.Uint64
}

func newDoor(limits Limits, trunks []netip.Prefix) *door {
	return &door{
		requests: guard.NewAdmission(guard.AdmissionConfig{Rate: limits.RequestRate, Burst: int(2 * limits.RequestRate)}), // trunks: admitMessage
		calls: guard.NewAdmission(guard.AdmissionConfig{Rate: limits.InviteRate, Burst: limits.InviteBurst,
			PerSource: limits.CallsPerSource, Total: limits.MaxCalls, Exempt: trunks}),
		answers:       guard.NewAdmission(guard.AdmissionConfig{Rate: limits.RequestRate, Burst: int(2 * limits.RequestRate)}),
		broken:        guard.NewAdmission(guard.AdmissionConfig{Rate: limits.RequestRate, Burst: int(2 * limits.RequestRate)}),
		pending:       guard.NewAdmission(guard.AdmissionConfig{Rate: unlimitedRate, Burst: 1 << 30, PerSource: limits.PendingPerSource}),
		trunkPending:  guard.NewAdmission(guard.AdmissionConfig{Rate: unlimitedRate, Burst: 1 << 30, PerSource: limits.TrunkPendingPerSource}),
		trunkRequests: guard.NewAdmission(guard.AdmissionConfig{Rate: limits.TrunkRequestRate, Burst: int(2 * limits.TrunkRequestRate)}),
		trunks:        trunks,
	}
}

// pendingOf is the cap on src's calls awaiting their ACK: a trunk's, or any other source's.
func (d *door) pendingOf(src netip.Addr) *guard.Admission {
	if guard.InPrefixes(d.trunks, src) {
		return d.trunkPending
	}
	return d.pending
}

// unlimitedRate is the rate of an Admission that only counts what a source holds.
const unlimitedRate = 1e9

// shouldAnswer reports whether a refusal to src may be answered now: within the answers
// budget, or for a trunk within its request rate (trunkRequests), so that INVITEs forged from
// a trunk's address and refused (trunkPending) are not answered one for one at the trunk. A
// refusal that may not be answered is counted as dropped.
func (d *door) shouldAnswer(src netip.Addr, now time.Time) bool {
	if guard.InPrefixes(d.trunks, src) {
		return d.answer(d.trunkRequests, src, now)
	}
	return d.answer(d.answers, src, now)
}

// shouldAnswerBroken reports whether a request the SIP rules refused may be answered to src
// now (the broken budget, which no trunk is exempt from).
func (d *door) shouldAnswerBroken(src netip.Addr, now time.Time) bool {
	return d.answer(d.broken, src, now)
}

// answer takes a token of budget for src, counting the refusal as answered or dropped.
func (d *door) answer(budget *guard.Admission, src netip.Addr, now time.Time) bool {
	if budget.Allow(src, now) != nil {
		d.dropped.Add(1)
		return false
	}
	d.refused.Add(1)
	return true
}

// admitMessage decides, on the socket and before sipgo, whether a request from src goes on.
// When it does not, reply is the stateless answer to write back (nil: silence). ACKs always
// pass (they end transactions, and make none), as do in-dialog requests of a live dialog within
// its own budget (dialograte.go).
func (s *Server) admitMessage(req *sip.Request, raw []byte, src netip.Addr, forgeable bool) (reply []byte, pass bool) {
	if req.IsAck() {
		return nil, true
	}
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			if c := s.callFor(req); c != nil {
				// A BYE always passes: it ends the call, and with it the flood.
				return nil, req.Method == sip.BYE || c.inDialog.allow(time.Now())
			}
		}
	}
	now := time.Now()
	if guard.InPrefixes(s.door.trunks, src) {
		// A trunk's INVITEs are bounded by trunkPending; its other requests over UDP by their
		// own rate, beyond which they get silence. Over TCP its address is its own: no limit.
		if req.Method == sip.INVITE || !forgeable || s.door.trunkRequests.Allow(src, now) == nil {
			return nil, true
		}
		s.door.dropped.Add(1)
		return nil, false
	}
	err := s.door.requests.Allow(src, now)
	if err == nil {
		return nil, true
	}
	if !s.door.shouldAnswer(src, now) {
		return nil, false
	}
	r, _ := sipua.RefusalOf(err, 0) // guard.ErrRateLimited: 503 with its Retry-After
	return r.Answer(raw), false
}

// admitCall takes a place for a new call from src (and one among its calls awaiting their ACK,
// given back by call.confirmedOrEnded), or answers the INVITE 503 with Retry-After
// (or nothing, for a source far over its rate) and ends its transaction at once, so that no
// retransmission of the refusal outlives the handler. It reports whether the call may go on;
// then the call must be released once (call.end does).
func (s *Server) admitCall(req *sip.Request, tx sip.ServerTransaction, src netip.Addr) bool {
	now := time.Now()
	err := s.door.calls.Acquire(src, now)
	if err == nil {
		if err = s.door.pendingOf(src).Acquire(src, now); err == nil {
			return true
		}
		s.door.calls.Release(src)
	}
	if s.door.shouldAnswer(src, now) {
		r, _ := sipua.RefusalOf(err, 0) // a guard refusal: 503 with its Retry-After
		respond(tx, req, r.Status, r.Reason, r.Headers...)
	}
	tx.Terminate()
	return false
}

// AdmissionStats counts what the per-source limits refused since the server started.
type AdmissionStats struct {
	// Answered counts requests and calls refused with a 503 and Retry-After.
	Answered uint64
	// Dropped counts those refused without an answer (a source far over its rate).
	Dropped uint64
	// TCPRefused counts SIP/TCP connections closed at once for their source's cap.
	TCPRefused uint64
	// TCPTimedOut counts SIP/TCP connections closed for idleness or a message not whole in
	// time.
	TCPTimedOut uint64
}

// AdmissionStats returns the refusal counters (for metrics).
func (s *Server) AdmissionStats() AdmissionStats {
	st := AdmissionStats{Answered: s.door.refused.Load(), Dropped: s.door.dropped.Load()}
	s.mu.Lock()
	tcp := s.tcp
	s.mu.Unlock()
	if tcp != nil {
		st.TCPRefused, st.TCPTimedOut = tcp.refusedConns.Load(), tcp.closedForSlowReader.Load()
	}
	return st
}
