// Package api serves confd's JSON control API (docs/SPEC.md "Control API"): rooms and participants,
// the matrix, dial-out, server-sent event streams, and the health endpoints. Every refusal is
// an RFC 9457 problem document (application/problem+json: type, title, status, detail) that
// also carries the detail as "error", as confd's refusals always did, with the status docs/SPEC.md
// names; a refused request changes nothing. The API describes itself in OpenAPI 3.1 at
// GET /api/openapi.json (openapi.json in this package, kept true by TestOpenAPICoversEveryRoute).
package api

import (
	"cmp"
	"confd/internal/guard"

	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"confd/bridge"
	"confd/problem"
	"confd/rtpfwd"
)

// Dialer places an outgoing call into a room (the SIP legs implement it).
type Dialer interface {
	// Dial calls uri and joins the callee to room when answered; it returns at once with an id
	// that the dial events carry, or an error for a URI it cannot call.
	Dial(ctx context.Context, room, uri string) (string, error)
}

// Config sets up the API.
type Config struct {
	// Token is the API token, required as "Authorization: Bearer TOKEN" on /api/*. No peer
	// address is trusted without it (DNS rebinding and reverse proxies make every address look
	// local): when empty, every /api/* request is refused with 401. cmd/confd always sets one
	// (a random one when none is configured).
	Token string
	// RoomTokens, when set, lets a participant's room token (see RoomTokens) read its own room:
	// GET /api/rooms/ROOM and GET /api/rooms/ROOM/events, as a bearer token or ?token=.
	RoomTokens *RoomTokens
	// AllowedOrigins are the origins ("https://app.example.com") besides the server's own whose
	// browsers may send state-changing requests; a request with any other Origin gets 403.
	AllowedOrigins []string
	// Dialer serves POST /api/rooms/ROOM/dial; nil answers 503.
	Dialer Dialer
	// Ready reports whether confd takes new calls (/readyz); nil means always.
	Ready func() bool
	// KeepAlive is the SSE comment interval; zero means 15s.
	KeepAlive time.Duration
	// Rooms, when set, keeps the rooms declared with PUT /api/rooms/ROOM (and forgets those
	// removed with DELETE) across restarts; nil keeps them only in memory.
	Rooms *RoomStore
	// Forwarders serves /api/rooms/ROOM/forwarders (forwarders.go); nil answers 503.
	Forwarders *rtpfwd.Manager
}

// Handler is the API's http.Handler.
type Handler struct {
	cfg     Config
	origins guard.Origins // AllowedOrigins, with the server's own page (guard.Origins.Allows)
	b       *bridge.Bridge
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []string // the patterns registered on mux, for the OpenAPI test
}

// access is who may use a route besides the holder of the API token.
type access int

const (
	apiTokenOnly access = iota
	// roomReaders also admits a room token for the route's {room}, on GET only.
	roomReaders
)

// New returns the API for b, to be mounted at the root of the HTTP server (it answers /api/,
// /healthz and /readyz).
func New(b *bridge.Bridge, cfg Config, log *slog.Logger) *Handler {
	cfg.KeepAlive = cmp.Or(cfg.KeepAlive, 15*time.Second)
	if log == nil {
		log = slog.Default()
	}
	h := &Handler{cfg: cfg, b: b, log: log, mux: http.NewServeMux(), origins: guard.NewOrigins(cfg.AllowedOrigins)}
	h.open("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	h.open("GET /readyz", h.readyz)
	h.open("GET /api/openapi.json", serveOpenAPI)
	h.route("GET /api/rooms", h.listRooms)
	h.handle("GET /api/rooms/{room}", h.getRoom, roomReaders)
	h.route("PUT /api/rooms/{room}", h.putRoom)
	h.route("DELETE /api/rooms/{room}", h.deleteRoom)
	h.route("POST /api/rooms/{room}/dial", h.dial)
	h.route("PATCH /api/rooms/{room}/participants/{id}", h.patchParticipant)
	h.route("DELETE /api/rooms/{room}/participants/{id}", h.deleteParticipant)
	h.route("POST /api/rooms/{room}/participants/{id}/move", h.moveParticipant)
	h.route("POST /api/rooms/{room}/mute-all", h.muteAll)
	h.route("GET /api/rooms/{room}/matrix", h.getMatrix)
	h.route("PUT /api/rooms/{room}/matrix", h.putMatrix)
	h.routeForwardersAndTransfers()
	h.handle("GET /api/rooms/{room}/events", h.events, roomReaders)
	h.route("GET /api/events", h.events)
	// Every other /api/ request: 405 with Allow for a path that has routes for other methods
	// (RFC 9110 section 15.5.6), else 404. ServeMux would answer 405 itself, but this
	// catch-all matches every method first.
	h.mux.Handle("/api/", h.authorize(h.noRoute, apiTokenOnly))
	return h
}

// Routes returns the patterns the API serves ("GET /api/rooms/{room}"), those added with
// Handle included, in the order they were registered.
func (h *Handler) Routes() []string { return slices.Clone(h.routes) }

// open registers a route that needs no token (health, the API's description).
func (h *Handler) open(pattern string, fn http.HandlerFunc) {
	h.routes = append(h.routes, pattern)
	h.mux.HandleFunc(pattern, fn)
}

// noRoute answers a request that no route took: 405 with the methods the path has, else 404.
func (h *Handler) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "/api/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		problem.Write(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	problem.Write(w, 404, "no such API route: "+r.Method+" "+r.URL.Path)
}

// Handle lets the daemon add routes that share the API's authorisation (recording, play).
func (h *Handler) Handle(pattern string, fn http.HandlerFunc) { h.route(pattern, fn) }

// HandlePublic adds a route of the daemon's that needs no token (it must hold no secret and
// change nothing), so that it is answered, documented and checked like the API's own.
func (h *Handler) HandlePublic(pattern string, fn http.HandlerFunc) { h.open(pattern, fn) }

func (h *Handler) route(pattern string, fn http.HandlerFunc) { h.handle(pattern, fn, apiTokenOnly) }

func (h *Handler) handle(pattern string, fn http.HandlerFunc, who access) {
	h.routes = append(h.routes, pattern)
	if strings.Contains(pattern, "{room}") {
		fn = roomNamed(fn)
	}
	h.mux.Handle(pattern, h.authorize(fn, who))
}

// roomNamed is the one check of a route's {room}: a name docs/SPEC.md does not allow is 400 with
// the rule (bridge.CheckRoomName) on every route that names a room, the daemon's included,
// before the route reads a body, looks anything up or finds a feature off.
func roomNamed(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := bridge.CheckRoomName(r.PathValue("room")); err != nil {
			writeBridgeError(w, err)
			return
		}
		next(w, r)
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cors(w, r) {
		return
	}
	h.mux.ServeHTTP(w, r)
}

// cors lets the pages of AllowedOrigins call the API from their own origin (Fetch standard,
// CORS protocol): their requests carry a bearer token and JSON, so the browser asks first
// (preflight), and this answers it. It returns true when it answered the request. No other
// origin gets a CORS header, so a browser keeps every other site's page from reading answers
// or sending more than a simple request, which authorize refuses. No credentials mode: the
// API uses no cookies.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || !strings.HasPrefix(r.URL.Path, "/api/") {
		return false
	}
	if n, ok := guard.Origin(o); !ok || !h.origins[n] {
		return false
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", o)
	hd.Add("Vary", "Origin")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	hd.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Last-Event-ID")
	hd.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// authorize applies docs/SPEC.md's token rule to /api/*, then refuses cross-site and non-JSON
// state-changing requests (issue 8 item 8): a browser on another site can send a "simple"
// POST (text/plain, form-encoded) without a CORS preflight, so the method alone proves nothing.
func (h *Handler) authorize(next http.HandlerFunc, who access) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, _ := guard.BearerToken(r)
		switch {
		case guard.SecretMatches(tok, h.cfg.Token):
		case who == roomReaders && h.roomReader(r, tok):
			r = r.WithContext(context.WithValue(r.Context(), participantView{}, true))
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="confd"`)
			problem.Write(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		if changesState(r.Method) {
			if !h.origins.Allows(r) {
				problem.Write(w, http.StatusForbidden, "cross-site request refused: Origin "+r.Header.Get("Origin")+" is not this server's and not allowed")
				return
			}
			if !isJSON(r) {
				problem.Write(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
				return
			}
		}
		next(w, r)
	}
}

// participantView marks a request read with a room token: a participant's view of its room,
// which leaves out what only the operator may see (redact).
type participantView struct{}

// asParticipant reports whether r is read with a room token rather than the API token.
func asParticipant(r *http.Request) bool {
	v, _ := r.Context().Value(participantView{}).(bool)
	return v
}

// redactFrom is what a participant's view shows of a "from": the URI's scheme and user (a
// number, or the user a page chose, by which the page finds its own row) without its host,
// which is often the caller's address and is the operator's to see, not every participant's
// ("whip:198.51.100.7:4000" becomes "whip:").
func redactFrom(from string) string {
	scheme, rest, ok := strings.Cut(from, ":")
	if !ok {
		return ""
	}
	if user, _, ok := strings.Cut(rest, "@"); ok {
		return scheme + ":" + user
	}
	if scheme == "tel" {
		return from // a number, no host
	}
	return scheme + ":"
}

// roomReader reports whether r reads a room with a room token for that room, given as the
// bearer token or as ?token= (an EventSource cannot set headers).
func (h *Handler) roomReader(r *http.Request, bearer string) bool {
	room := r.PathValue("room")
	if h.cfg.RoomTokens == nil || room == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	if bearer == "" {
		bearer = r.URL.Query().Get("token")
	}
	return h.cfg.RoomTokens.Verify(bearer, room)
}

// changesState reports whether method may change something (RFC 9110 section 9.2.1: not safe).
func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// isJSON reports whether r declares a JSON body. A state-changing request must, even with an
// empty body: a cross-site form or fetch without a preflight can only send text/plain,
// application/x-www-form-urlencoded or multipart/form-data.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Ready != nil && !h.cfg.Ready() {
		problem.Write(w, http.StatusServiceUnavailable, "draining: new calls are refused")
		return
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

func (h *Handler) listRooms(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, h.b.Rooms())
}

func (h *Handler) getRoom(w http.ResponseWriter, r *http.Request) {
	st, err := h.b.RoomState(r.PathValue("room"))
	if err != nil {
		writeBridgeError(w, err)
		return
	}
	if asParticipant(r) {
		st.Settings.PIN, st.Settings.ModeratorPIN = "", ""
		st.Settings.Moderators, st.Settings.HoldMusic = nil, "" // callers' numbers, a server path
		for i := range st.Participants {
			st.Participants[i].From = redactFrom(st.Participants[i].From)
			if st.Participants[i].Kind == bridge.KindCascade {
				// On the calling node its name and node are the owner's SIP address.
				st.Participants[i].Name, st.Participants[i].Node = bridge.KindCascade, ""
			}
		}
	}
	writeJSON(w, 200, st)
}

func (h *Handler) putRoom(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("room")
	var s bridge.RoomSettings
	if !readJSON(w, r, &s) {
		return
	}
	// The API names only hold music confd already decoded from its config file (or -data-dir):
	// any other path would have confd open a file of the API's choosing — /dev/zero, a FIFO,
	// /proc — and tell whether it exists (red team, issue 13).
	if s.HoldMusic != "" && !h.b.HoldMusicLoaded(s.HoldMusic) {
		problem.Write(w, 400, fmt.Sprintf("hold_music %q is not one of the files of the config file's rooms (the API reads no other file)", s.HoldMusic))
		return
	}
	if err := h.b.Declare(name, s); err != nil {
		writeBridgeError(w, err)
		return
	}
	if err := h.cfg.Rooms.Put(name, s); err != nil {
		h.log.Error("declared room not saved", "room", name, "err", err)
		problem.Write(w, 500, "room declared but not saved for the next start: "+err.Error())
		return
	}
	st, _ := h.b.RoomState(name)
	writeJSON(w, 200, st)
}

// deleteRoom removes a room's declaration: an empty room is gone, one with participants goes on
// as an ad-hoc room until it empties (see bridge.Bridge.Undeclare).
func (h *Handler) deleteRoom(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("room")
	if err := h.b.Undeclare(name); err != nil {
		writeBridgeError(w, err)
		return
	}
	if err := h.cfg.Rooms.Delete(name); err != nil {
		h.log.Error("room removal not saved", "room", name, "err", err)
		problem.Write(w, 500, "room removed but not saved for the next start: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// room returns the running room the route names (bridge.Bridge.RunningRoom), or answers its
// error: 400 for a bad name, 404 for a room nobody is in.
func (h *Handler) room(w http.ResponseWriter, r *http.Request) (*bridge.Room, bool) {
	room, err := h.b.RunningRoom(r.PathValue("room"))
	if err != nil {
		writeBridgeError(w, err)
	}
	return room, err == nil
}

func (h *Handler) dial(w http.ResponseWriter, r *http.Request) {
	var req struct {
		URI string `json:"uri"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	name := r.PathValue("room")
	if h.cfg.Dialer == nil {
		problem.Write(w, 503, "dial-out is not available")
		return
	}
	if _, err := h.b.Admit(name); err != nil {
		writeBridgeError(w, err)
		return
	}
	id, err := h.cfg.Dialer.Dial(context.WithoutCancel(r.Context()), name, req.URI)
	if err != nil {
		if _, ok := bridge.StatusOf(err); ok { // guard's refusals: 403 not allowed, 429 over rate
			writeBridgeError(w, err)
		} else {
			problem.Write(w, 400, err.Error())
		}
		return
	}
	writeJSON(w, 202, map[string]string{"id": id})
}

func (h *Handler) patchParticipant(w http.ResponseWriter, r *http.Request) {
	room, ok := h.room(w, r)
	if !ok {
		return
	}
	var c bridge.Change
	if !readJSON(w, r, &c) {
		return
	}
	st, err := room.Update(r.PathValue("id"), c)
	writeResult(w, 200, st, err)
}

func (h *Handler) deleteParticipant(w http.ResponseWriter, r *http.Request) {
	room, ok := h.room(w, r)
	if !ok {
		return
	}
	p, err := room.Participant(r.PathValue("id"))
	if err != nil {
		writeBridgeError(w, err)
		return
	}
	p.Hangup("kicked")
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) muteAll(w http.ResponseWriter, r *http.Request) {
	room, ok := h.room(w, r)
	if !ok {
		return
	}
	writeJSON(w, 200, map[string]int{"muted": room.MuteAll()})
}

func (h *Handler) getMatrix(w http.ResponseWriter, r *http.Request) {
	room, ok := h.room(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("effective") != "" {
		writeJSON(w, 200, room.EffectiveMatrix())
		return
	}
	writeJSON(w, 200, room.Matrix())
}

func (h *Handler) putMatrix(w http.ResponseWriter, r *http.Request) {
	room, ok := h.room(w, r)
	if !ok {
		return
	}
	var gains []bridge.Gain
	if !readJSON(w, r, &gains) {
		return
	}
	if err := room.SetMatrix(gains); err != nil {
		writeBridgeError(w, err)
		return
	}
	writeJSON(w, 200, room.Matrix())
}

// events streams the bus as server-sent events (HTML Living Standard "Server-sent events"),
// resuming after Last-Event-ID when the client reconnects.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	room := r.PathValue("room")
	fl, ok := w.(http.Flusher)
	if !ok {
		problem.Write(w, 500, "streaming unsupported")
		return
	}
	sub := h.b.Bus().Subscribe(room, 256, r.Header.Get("Last-Event-ID"))
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(200)
	fmt.Fprint(w, ": confd events\n\n")
	fl.Flush()
	keep := time.NewTicker(h.cfg.KeepAlive)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			if asParticipant(r) {
				e = participantEvent(e)
			}
			data, _ := json.Marshal(e)
			if _, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", e.ID, e.Type, data); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// readJSON decodes a JSON request body strictly: application/json, at most guard.MaxBodyBytes, no
// unknown fields, nothing after the value. It answers 415, 413 or 400 itself and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool { return ReadJSON(w, r, v) }

// ReadJSON is readJSON for the routes other packages add with Handle.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if !isJSON(r) {
		problem.Write(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, guard.MaxBodyBytes)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// 413 says the limit that tripped: this one, or the server's max_body_bytes before it.
		if !problem.TooLarge(w, err) {
			problem.Write(w, 400, "bad JSON: "+err.Error())
		}
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		problem.Write(w, 400, "bad JSON: data after the value")
		return false
	}
	return true
}

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// WriteBridgeError maps the bridge's errors to docs/SPEC.md's statuses.
func WriteBridgeError(w http.ResponseWriter, err error) { writeBridgeError(w, err) }

// writeResult answers v with status, or err mapped by writeBridgeError when err is not nil.
func writeResult(w http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		writeBridgeError(w, err)
		return
	}
	writeJSON(w, status, v)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeBridgeError answers the bridge's errors and guard's refusals with docs/SPEC.md's statuses
// (bridge.StatusOf), with Retry-After for a refusal; any other error is a 500.
func writeBridgeError(w http.ResponseWriter, err error) {
	status := 500
	if st, ok := bridge.StatusOf(err); ok {
		status = st.HTTP
		if st.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(st.RetryAfter))
		}
	}
	problem.Write(w, status, err.Error())
}
