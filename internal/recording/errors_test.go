package recording

import (
	"fmt"
	"testing"

	"confd/bridge"
)

// TestErrorsWrapTheBridgesErrors (review finding 5): recording's refusals are answered through
// the bridge's status table (bridge.StatusOf), as rtpfwd's are, so the API needs no table of
// its own for them: a room nobody is in 404, one already recorded 409, no recording to stop
// 404, bad audio for a player 400.
func TestErrorsWrapTheBridgesErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{ErrEmptyRoom, 404}, {ErrRecording, 409}, {ErrNotRecording, 404}, {ErrBadAudio, 400},
	} {
		err := fmt.Errorf("%w: %q", c.err, "r")
		if st, ok := bridge.StatusOf(err); !ok || st.HTTP != c.want {
			t.Errorf("%v: HTTP %d (in the table: %v), want %d", err, st.HTTP, ok, c.want)
		}
	}
}
