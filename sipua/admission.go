package sipua

import (
	"errors"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
)

// Gate is the admit step of the admission pipeline both SIP legs run for a new INVITE:
//
//	admit     Gate.Open (draining: 503), the leg's per-source limits, Gate.Admit (credentials:
//	          401 or 403; the room: bridge.Admit's 404, 403, 486 or 503)
//	negotiate the leg's media answer (sdpneg for RTP, webrtcleg for WebRTC: 488 when nothing fits)
//	join      the room (bridge.Join; sipleg waits for the ACK, docs/SPEC.md "Joining")
//	answer    the 2xx with the session description, or the Refusal of the step that said no
//
// so that a phone and a browser are refused the same way for the same cause, in the same order
// (RFC 3261 section 8.2: the request's validity first, Validator; then who asks; then what).
// It is safe for concurrent use.
type Gate struct {
	// Bridge admits rooms.
	Bridge *bridge.Bridge
	// Auth says who may call in.
	Auth *Auth
	// RetryAfter is the Retry-After, in seconds, of a 503 while draining (RFC 3261 section
	// 21.5.4). Zero means bridge.DrainingRetryAfter.
	RetryAfter int

	draining atomic.Bool
}

// Drain makes Open refuse every new call from now on.
func (g *Gate) Drain() { g.draining.Store(true) }

// Draining reports whether Drain was called.
func (g *Gate) Draining() bool { return g.draining.Load() }

// Open refuses a new call while draining: 503 with Retry-After, so that a proxy tries another
// node and a phone tries later.
func (g *Gate) Open() *Refusal {
	if !g.draining.Load() {
		return nil
	}
	return g.RefusalOf(bridge.ErrDraining)
}

// Admit decides whether req, from remote ("host:port"), may call into room: its credentials
// first (Auth.Authorize; skipped when authed, a connection that already passed them), then the
// room (bridge.Admit; skipped when room is "", a dial-in number whose room the IVR asks for).
// It returns the room's settings for the steps after it (its PIN).
func (g *Gate) Admit(req *sip.Request, remote, room string, authed bool) (bridge.RoomSettings, *Refusal) {
	if !authed {
		if r := g.Auth.Authorize(req, remote); r != nil {
			return bridge.RoomSettings{}, r
		}
	}
	if room == "" {
		return bridge.RoomSettings{}, nil
	}
	settings, err := g.Bridge.Admit(room)
	if err != nil {
		return bridge.RoomSettings{}, g.RefusalOf(err)
	}
	return settings, nil
}

// RefusalOf is the SIP answer to an error of a step: a bridge error or guard refusal through
// the one table, bridge.StatusOf, with the refusal's own Retry-After or, for a draining bridge,
// the Gate's; any other error is 500.
func (g *Gate) RefusalOf(err error) *Refusal {
	if r, ok := RefusalOf(err, g.RetryAfter); ok {
		return r
	}
	return &Refusal{Status: 500, Reason: "Server Internal Error"}
}

// RefusalOf is the SIP answer to err when it is one of the bridge's errors or a guard refusal
// (bridge.StatusOf, answered by RefusalFor); ok is false for any other error, which the leg
// answers itself.
func RefusalOf(err error, retryAfter int) (r *Refusal, ok bool) {
	st, ok := bridge.StatusOf(err)
	if !ok {
		return nil, false
	}
	return RefusalFor(st, err, retryAfter), true
}

// RefusalFor is the SIP answer st (a row of a bridge.StatusTable) gives err: with st's
// Retry-After (RFC 3261 section 20.33), the leg's own retryAfter (when not 0) for ErrDraining,
// and a Warning with err's text when st has a warn-code.
func RefusalFor(st bridge.Status, err error, retryAfter int) *Refusal {
	r := &Refusal{Status: st.SIP, Reason: st.Reason}
	if retryAfter > 0 && errors.Is(err, bridge.ErrDraining) {
		st.RetryAfter = retryAfter
	}
	if st.RetryAfter > 0 {
		r.Headers = append(r.Headers, RetryAfter(st.RetryAfter))
	}
	if st.Warning != 0 {
		r.Headers = append(r.Headers, Warning(st.Warning, err.Error()))
	}
	return r
}
