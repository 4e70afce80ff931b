package api

import (
	"net/http"

	"confd/bridge"
)

// moveParticipant serves POST /api/rooms/ROOM/participants/ID/move {"room":"OTHER"} (docs/SPEC.md
// "Moving a participant"): the participant goes on in OTHER with its call untouched, and the
// answer is the participant as it now is there. OTHER's lock (403) and limit (409) apply; a
// "pin", when given, must be OTHER's PIN or moderator PIN (403): the API token needs none,
// being the operator's, who can read every room's PIN. A room that does not exist is made.
func (h *Handler) moveParticipant(w http.ResponseWriter, r *http.Request) {
	var req bridge.MoveRequest
	if !readJSON(w, r, &req) {
		return
	}
	st, err := h.b.Move(r.PathValue("room"), r.PathValue("id"), req)
	writeResult(w, http.StatusOK, st, err)
}
