package bridge

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"confd/internal/guard"
)

// TestStatusOf holds the one table of answers (docs/SPEC.md "Errors") that every leg and the API
// use: the same cause gets the same answer over SIP, WHIP/WHEP and the control API, wrapped or
// not, and a guard refusal carries its Retry-After.
func TestStatusOf(t *testing.T) {
	refusal := func(err error) error { return &guard.Refusal{Err: err, RetryAfter: 1500 * time.Millisecond} }
	for _, tc := range []struct {
		err        error
		sip        int
		http       int
		retryAfter int
	}{
		{ErrBadRoomName, 404, 400, 0},
		{ErrNoRoom, 404, 404, 0},
		{ErrNoParticipant, 404, 404, 0},
		{ErrRoomLocked, 403, 403, 0},
		{ErrRoomFull, 486, 409, 0},
		{ErrDraining, 503, 503, DrainingRetryAfter}, // on every leg and the API
		{ErrBadSetting, 400, 400, 0},
		{fmt.Errorf("%w: %w", ErrBadSetting, errors.New("gain 7")), 400, 400, 0},
		{refusal(guard.ErrLockedOut), 403, 429, 2},
		{refusal(guard.ErrRateLimited), 503, 429, 2},
		{refusal(guard.ErrSourceBusy), 503, 429, 2},
		{refusal(guard.ErrFull), 503, 503, 2},
		{guard.ErrNotAllowed, 403, 403, 0},
		{fmt.Errorf("dial: %w", refusal(guard.ErrRateLimited)), 503, 429, 2},
	} {
		st, ok := StatusOf(tc.err)
		if !ok || st.SIP != tc.sip || st.HTTP != tc.http || st.RetryAfter != tc.retryAfter || st.Reason == "" {
			t.Errorf("StatusOf(%v) = %+v, %v; want SIP %d, HTTP %d, Retry-After %d and a reason",
				tc.err, st, ok, tc.sip, tc.http, tc.retryAfter)
		}
	}
	for _, err := range []error{nil, errors.New("a leg's own error")} {
		if st, ok := StatusOf(err); ok {
			t.Errorf("StatusOf(%v) = %+v, true; want false: not the bridge's to answer", err, st)
		}
	}
}
