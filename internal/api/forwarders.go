package api

import (
	"context"
	"fmt"
	"net/http"

	"confd/bridge"
	"confd/problem"
	"confd/rtpfwd"
)

// routeForwardersAndTransfers registers issue 13's routes: the RTP forwarders of a room and the
// transfer of a participant out of it. All take the API token alone: a forwarder sends to an
// address that never proved it wants the packets, and a transfer moves someone's call.
func (h *Handler) routeForwardersAndTransfers() {
	h.route("GET /api/rooms/{room}/forwarders", h.listForwarders)
	h.route("POST /api/rooms/{room}/forwarders", h.startForwarder)
	h.route("DELETE /api/rooms/{room}/forwarders/{id}", h.stopForwarder)
	h.route("POST /api/rooms/{room}/participants/{id}/transfer", h.transferParticipant)
}

// forwarders returns the forwarder manager, or answers 503 when confd has none.
func (h *Handler) forwarders(w http.ResponseWriter) (*rtpfwd.Manager, bool) {
	if h.cfg.Forwarders == nil {
		problem.Write(w, http.StatusServiceUnavailable, "RTP forwarders are not available")
	}
	return h.cfg.Forwarders, h.cfg.Forwarders != nil
}

func (h *Handler) listForwarders(w http.ResponseWriter, r *http.Request) {
	m, ok := h.forwarders(w)
	if !ok {
		return
	}
	list, err := m.List(r.PathValue("room"))
	writeResult(w, http.StatusOK, list, err)
}

// startForwarder answers 201 with the forwarder and its Location; 403 when forwarders are off
// or the destination is not allowed, 409 at the room's limit.
func (h *Handler) startForwarder(w http.ResponseWriter, r *http.Request) {
	m, ok := h.forwarders(w)
	if !ok {
		return
	}
	var req rtpfwd.Request
	if !readJSON(w, r, &req) {
		return
	}
	info, err := m.Start(r.PathValue("room"), req)
	if err != nil {
		writeBridgeError(w, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/rooms/%s/forwarders/%s", info.Room, info.ID))
	writeJSON(w, http.StatusCreated, info)
}

// stopForwarder answers 200 with what the forwarder sent.
func (h *Handler) stopForwarder(w http.ResponseWriter, r *http.Request) {
	m, ok := h.forwarders(w)
	if !ok {
		return
	}
	info, err := m.Stop(r.PathValue("room"), r.PathValue("id"))
	writeResult(w, http.StatusOK, info, err)
}

// transferParticipant asks a SIP participant's phone to call another URI (REFER, RFC 3515) and
// answers 202 at once: the progress and the outcome are "transfer" events, and the participant
// leaves the room when its phone has reached the target. A participant that is not a SIP call
// is 409.
func (h *Handler) transferParticipant(w http.ResponseWriter, r *http.Request) {
	room, ok := h.room(w, r)
	if !ok {
		return
	}
	var req struct {
		URI string `json:"uri"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	p, err := room.Participant(r.PathValue("id"))
	if err == nil && p.Internal() {
		err = fmt.Errorf("%w: %q", bridge.ErrNoParticipant, r.PathValue("id"))
	}
	if err == nil {
		err = p.Transfer(context.WithoutCancel(r.Context()), req.URI)
	}
	if err != nil {
		writeBridgeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"participant": p.ID(), "uri": req.URI, "state": "requested"})
}
