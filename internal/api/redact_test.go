package api

import (
	"testing"

	"confd/bridge"
)

// TestRoomTokenEventsLeaveOutWhatNamesAPathOrATarget: a room token's events carry no failure
// text that names what the operator alone may know: a recording's write error names the file on
// the server, a dial-out's or transfer's error the target URI. Both were passed on while the
// file and uri beside them were left out.
func TestRoomTokenEventsLeaveOutWhatNamesAPathOrATarget(t *testing.T) {
	for _, e := range []bridge.Event{
		{Type: bridge.EventRecording, Data: map[string]any{"state": "stopped", "file": "/srv/rec/r.wav", "error": "write /srv/rec/r.wav: no space left on device"}},
		{Type: bridge.EventDial, Data: map[string]any{"state": "failed", "uri": "sip:ceo@10.0.0.9", "error": "dial sip:ceo@10.0.0.9: 486 Busy Here"}},
		{Type: bridge.EventTransfer, Data: map[string]any{"uri": "sip:ceo@10.0.0.9", "error": "REFER to sip:ceo@10.0.0.9 refused"}},
	} {
		got := participantEvent(e)
		for _, k := range []string{"file", "uri", "error"} {
			if _, ok := got.Data[k]; ok {
				t.Errorf("%s event as a room token reads it: %v still has %q", e.Type, got.Data, k)
			}
		}
		if _, ok := e.Data["error"]; !ok {
			t.Errorf("%s: the operator's own event lost its error", e.Type)
		}
	}
}
