package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"confd/internal/api"
	"confd/internal/recording"
	"confd/internal/webhook"
	"confd/problem"
)

// startOps starts the webhooks, the recording manager and the entry/exit chimes, and adds the
// recording and play routes to the API.
func (d *daemon) startOps(a *api.Handler) error {
	var err error
	if d.hooks, err = webhook.NewGroup(d.bridge.Bus(), webhook.FromConfig(d.cfg.Webhooks), webhook.WithLogger(d.log)); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	d.recorder = recording.NewManager(d.bridge, d.cfg.RecordingDir, recording.Options{Logger: d.log, Tracks: d.cfg.RecordingTracks})
	if d.chimes, err = recording.NewChimes(d.bridge, func(room string) bool {
		st, err := d.bridge.RoomState(room)
		return err == nil && st.Settings.Chimes
	}, d.log); err != nil {
		return err
	}
	a.Handle("POST /api/rooms/{room}/recording", d.switchRecording(true))
	a.Handle("DELETE /api/rooms/{room}/recording", d.switchRecording(false))
	a.Handle("GET /api/rooms/{room}/recording", d.getRecording)
	a.Handle("POST /api/rooms/{room}/play", d.play)
	return nil
}

// stopOps finishes every recording and delivers the last events to the webhooks.
func (d *daemon) stopOps(ctx context.Context) {
	if d.chimes != nil {
		d.chimes.Close()
	}
	if d.recorder != nil {
		if err := d.recorder.Close(); err != nil {
			d.log.Warn("recordings", "err", err)
		}
	}
	if d.hooks != nil {
		hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_ = d.hooks.Close(hctx)
	}
}

type recordingState struct {
	Room      string   `json:"room"`
	Recording bool     `json:"recording"`
	File      string   `json:"file,omitempty"`
	Tracks    []string `json:"tracks,omitempty"`
}

// switchRecording answers POST (on: 201 with the new recording) and DELETE (off: 200 with the
// one stopped) on a room's recording. It and play answer their refusals through the bridge's
// status table (api.WriteBridgeError), as every route does: recording's errors wrap the bridge
// error whose status they get (internal/recording/errors.go).
func (d *daemon) switchRecording(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		room := r.PathValue("room")
		change, status := d.recorder.Stop, http.StatusOK
		if on {
			change, status = d.recorder.Start, http.StatusCreated
		}
		rec, err := change(room)
		if err != nil {
			api.WriteBridgeError(w, err)
			return
		}
		api.WriteJSON(w, status, recordingState{Room: room, Recording: on, File: rec.File(), Tracks: rec.Tracks()})
	}
}

func (d *daemon) getRecording(w http.ResponseWriter, r *http.Request) {
	room := r.PathValue("room")
	st := recordingState{Room: room}
	if rec, ok := d.recorder.Recording(room); ok {
		st.Recording, st.File, st.Tracks = true, rec.File(), rec.Tracks()
	}
	api.WriteJSON(w, http.StatusOK, st)
}

// play plays a prompt or a tone into a room: {"prompt":"welcome"} or
// {"tone":{"hz":440,"ms":500}}.
func (d *daemon) play(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Prompt string `json:"prompt"`
		Tone   *struct {
			Hz float64 `json:"hz"`
			Ms int     `json:"ms"`
		} `json:"tone"`
	}
	if !api.ReadJSON(w, r, &req) {
		return
	}
	room := r.PathValue("room")
	if _, err := d.bridge.RunningRoom(room); err != nil {
		api.WriteBridgeError(w, err)
		return
	}
	var p *recording.Player
	var err error
	switch {
	case req.Prompt != "" && req.Tone == nil:
		p, err = recording.NewPromptPlayer(req.Prompt)
	case req.Tone != nil && req.Prompt == "":
		p, err = recording.NewTone(req.Tone.Hz, req.Tone.Ms)
	default:
		problem.Write(w, http.StatusBadRequest, `give either "prompt" or "tone"`)
		return
	}
	if err != nil {
		api.WriteBridgeError(w, err)
		return
	}
	if _, err := recording.Play(d.bridge, room, p); err != nil {
		api.WriteBridgeError(w, err)
		return
	}
	// duration_ms is the old spelling, kept for the integrators that read it.
	api.WriteJSON(w, http.StatusAccepted, map[string]any{"room": room, "duration_seconds": p.Duration().Seconds(), "duration_ms": p.Duration().Milliseconds()})
}
