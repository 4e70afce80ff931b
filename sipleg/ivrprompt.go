package sipleg

import (
	"errors"

	"confd/bridge"
	"confd/prompts"
)

// meetingRefusalPrompt is what the IVR says to a meeting number the bridge refuses (err from
// bridge.Admit), by the cause bridge.StatusOf answers a direct call with, and whether the dialog
// ends there: a locked (403) or full (486) room may be a wrong number, so another is asked for;
// a room that is ending (480) has ended for this caller ("The conference has ended. Goodbye."),
// and a draining bridge (503) takes no number at all ("Sorry, goodbye."). Any other refusal is
// a number that leads nowhere.
func meetingRefusalPrompt(err error) (prompt string, final bool) {
	switch {
	case errors.Is(err, bridge.ErrRoomLocked):
		return prompts.Locked, false
	case errors.Is(err, bridge.ErrRoomFull):
		return prompts.Full, false
	case errors.Is(err, bridge.ErrRoomEnding):
		return prompts.ConferenceEnded, true
	case errors.Is(err, bridge.ErrDraining):
		return prompts.Goodbye, true
	}
	return prompts.InvalidMeeting, false
}

// farewellPrompt is the IVR's last word before it hangs up on a dialog that ended with err: the
// final refusal's own goodbye (meetingRefusalPrompt), else "Sorry, goodbye.".
func farewellPrompt(err error) string {
	if prompt, final := meetingRefusalPrompt(err); final {
		return prompt
	}
	return prompts.Goodbye
}
