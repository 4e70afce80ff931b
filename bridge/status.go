package bridge

import (
	"errors"

	"confd/internal/guard"
)

// Status is how every leg and the control API answer one of the bridge's errors or one of
// internal/guard's refusals (docs/SPEC.md "Errors"), so that a SIP phone, a browser and an API
// client are told the same thing for the same cause.
type Status struct {
	// SIP is the SIP status code (RFC 3261 section 21) and Reason its reason phrase.
	SIP    int
	Reason string
	// HTTP is the HTTP status code (RFC 9110 section 15; 429 is RFC 6585 section 4).
	HTTP int
	// RetryAfter is the Retry-After value in seconds (RFC 3261 section 20.33, RFC 9110
	// section 10.2.3): a guard refusal's own, else the table's (DrainingRetryAfter for
	// ErrDraining); 0 means the answer carries none.
	RetryAfter int
	// Warning, when not 0, is the warn-code (RFC 3261 section 20.43) of the Warning header
	// that carries the error's text in a SIP answer: 399 miscellaneous, 304 media type not
	// available.
	Warning int
}

// DrainingRetryAfter is the Retry-After, in seconds, of a refusal by a node that is draining
// or shutting down, on every leg and the API: a proxy tries another node at once, a phone or
// browser comes back in a minute. A SIP leg may be configured with its own.
const DrainingRetryAfter = 60

// StatusEntry is one row of a StatusTable: the answer to errors that are (errors.Is) Err.
type StatusEntry struct {
	Err    error
	Status Status
}

// StatusTable maps errors to their answers; the first entry whose error matches wins. The
// bridge keeps the table of its own errors and guard's refusals (StatusOf); a leg with errors
// of its own keeps a table of them beside it (webrtcleg.StatusOf), so that its SIP and HTTP
// answers are written once.
type StatusTable []StatusEntry

// Of is the answer to err from t, with its Retry-After for a guard refusal, and whether an
// entry matched.
func (t StatusTable) Of(err error) (Status, bool) {
	if err == nil {
		return Status{}, false
	}
	for _, e := range t {
		if errors.Is(err, e.Err) {
			st := e.Status
			if ra := guard.RetryAfterSeconds(err); ra > 0 {
				st.RetryAfter = ra
			}
			return st, true
		}
	}
	return Status{}, false
}

// statuses is the one table of answers to the bridge's errors and guard's refusals.
var statuses = StatusTable{
	{ErrBadRoomName, Status{SIP: 404, Reason: "Not Found (no such room)", HTTP: 400}},
	{ErrNoRoom, Status{SIP: 404, Reason: "Not Found (no such room)", HTTP: 404}},
	{ErrNoParticipant, Status{SIP: 404, Reason: "Not Found (no such participant)", HTTP: 404}},
	{ErrRoomLocked, Status{SIP: 403, Reason: "Forbidden (room locked)", HTTP: 403}},
	{ErrWrongPIN, Status{SIP: 403, Reason: "Forbidden (wrong PIN)", HTTP: 403}},
	{ErrRoomFull, Status{SIP: 486, Reason: "Busy Here (room full)", HTTP: 409}},
	{ErrRoomEnding, Status{SIP: 480, Reason: "Temporarily Unavailable (the conference is ending)", HTTP: 409}},
	{ErrDraining, Status{SIP: 503, Reason: "Service Unavailable (draining)", HTTP: 503, RetryAfter: DrainingRetryAfter}},
	{ErrBadSetting, Status{SIP: 400, Reason: "Bad Request (bad setting)", HTTP: 400}},
	{ErrAlreadyRunning, Status{SIP: 403, Reason: "Forbidden (already running)", HTTP: 409}},
	{ErrNotRunning, Status{SIP: 404, Reason: "Not Found (not running)", HTTP: 404}},
	{ErrForwarderLimit, Status{SIP: 403, Reason: "Forbidden (forwarder limit)", HTTP: 409}},
	{ErrNoForwarder, Status{SIP: 404, Reason: "Not Found (no such forwarder)", HTTP: 404}},
	{ErrNotTransferable, Status{SIP: 403, Reason: "Forbidden (not a SIP call)", HTTP: 409}},
	// A source locked out for guessing PINs is told so without its PIN being checked: SIP 403
	// (a 503 would make a proxy try another node), HTTP 429.
	{guard.ErrLockedOut, Status{SIP: 403, Reason: "Forbidden (too many PIN attempts)", HTTP: 429}},
	{guard.ErrRateLimited, Status{SIP: 503, Reason: "Service Unavailable (too many requests from this source)", HTTP: 429}},
	{guard.ErrSourceBusy, Status{SIP: 503, Reason: "Service Unavailable (too many sessions from this source)", HTTP: 429}},
	{guard.ErrFull, Status{SIP: 503, Reason: "Service Unavailable (too many sessions)", HTTP: 503}},
	{guard.ErrNotAllowed, Status{SIP: 403, Reason: "Forbidden (not allowed)", HTTP: 403}},
}

// StatusOf is the answer to err, with its Retry-After for a guard refusal, and whether err is
// one of the bridge's errors or a guard refusal at all; other errors (a leg's own, such as a
// malformed offer) are the leg's to answer.
func StatusOf(err error) (Status, bool) { return statuses.Of(err) }
