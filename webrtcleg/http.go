package webrtcleg

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"confd/bridge"
)

// maxOfferBytes bounds a WHIP/WHEP request body; browser offers are a few kilobytes.
const maxOfferBytes = 64 << 10

// maxNameLen bounds a ?name= display name.
const maxNameLen = 128

// Handler returns the WHIP (RFC 9725) and WHEP endpoints: POST /whip/ROOM and POST /whep/ROOM
// create a call (201 Created, Location /whip/ROOM/ID, the SDP answer, ICE servers as Link
// headers), DELETE on the Location ends it (200), PATCH answers 405 (no trickle ICE or ICE
// restart: the answer carries every candidate), OPTIONS answers CORS preflights. Errors are
// JSON {"error":…}: 400 malformed SDP, no audio or no Opus; 401 wrong or missing PIN bearer
// token; 403 locked room; 404 bad room name or unknown resource; 409 full room; 413 body too
// large; 415 not application/sdp; 503 draining (with Retry-After) or gathering failed.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Location, Link, ETag")
	var kind string
	rest := ""
	switch {
	case strings.HasPrefix(r.URL.Path, "/whip/"):
		kind, rest = "whip", strings.TrimPrefix(r.URL.Path, "/whip/")
	case strings.HasPrefix(r.URL.Path, "/whep/"):
		kind, rest = "whep", strings.TrimPrefix(r.URL.Path, "/whep/")
	default:
		s.refuse(w, http.StatusNotFound, "no such WHIP/WHEP endpoint: "+r.URL.Path)
		return
	}
	room, id, isResource := strings.Cut(rest, "/")
	if r.Method == http.MethodOptions {
		// CORS preflight (Fetch standard), and RFC 9725 section 4.2's OPTIONS.
		h.Set("Access-Control-Allow-Methods", "POST, DELETE, PATCH, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
		h.Set("Access-Control-Max-Age", "86400")
		if isResource {
			h.Set("Allow", "DELETE, PATCH, OPTIONS")
		} else {
			h.Set("Allow", "POST, OPTIONS")
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !bridge.ValidRoomName(room) {
		s.refuse(w, http.StatusNotFound, fmt.Sprintf("room name %q must match [A-Za-z0-9_-]{1,64}", room))
		return
	}
	if !isResource {
		if r.Method != http.MethodPost {
			h.Set("Allow", "POST, OPTIONS")
			s.refuse(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on a "+strings.ToUpper(kind)+" endpoint; POST an SDP offer")
			return
		}
		s.create(w, r, kind, room)
		return
	}
	c, err := s.Call(id)
	if err != nil || c.room != room || c.kind != kind {
		s.refuse(w, http.StatusNotFound, "no such "+strings.ToUpper(kind)+" resource: "+r.URL.Path)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		if !s.authorized(w, r, room) {
			return
		}
		_ = c.Close()
		w.WriteHeader(http.StatusOK)
	case http.MethodPatch:
		h.Set("Allow", "DELETE, OPTIONS")
		s.refuse(w, http.StatusMethodNotAllowed, "trickle ICE and ICE restarts are not supported: the answer carries every candidate")
	default:
		h.Set("Allow", "DELETE, OPTIONS")
		s.refuse(w, http.StatusMethodNotAllowed, r.Method+" is not allowed on a "+strings.ToUpper(kind)+" resource")
	}
}

// create handles POST /whip/ROOM and /whep/ROOM.
func (s *Server) create(w http.ResponseWriter, r *http.Request, kind, room string) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/sdp" {
		s.refuse(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type must be application/sdp, not %q", r.Header.Get("Content-Type")))
		return
	}
	if _, err := s.b.Admit(room); err != nil {
		s.refuseErr(w, err)
		return
	}
	if !s.authorized(w, r, room) {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOfferBytes))
	if err != nil {
		s.refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the offer must be at most %d bytes", maxOfferBytes))
		return
	}
	name := r.URL.Query().Get("name")
	if len(name) > maxNameLen {
		s.refuse(w, http.StatusBadRequest, fmt.Sprintf("name must be at most %d bytes", maxNameLen))
		return
	}
	answer, c, err := s.Answer(r.Context(), room, string(body), JoinInfo{
		Name: name, From: kind + ":" + r.RemoteAddr, Listen: kind == "whep", Kind: kind,
	})
	if err != nil {
		s.refuseErr(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/sdp")
	h.Set("Location", "/"+kind+"/"+room+"/"+c.ID())
	h.Set("ETag", `"`+c.ID()+`"`)
	for _, l := range s.iceServerLinks() {
		h.Add("Link", l)
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// authorized checks the room PIN presented as a bearer token (RFC 9725 section 4.5, RFC 6750).
func (s *Server) authorized(w http.ResponseWriter, r *http.Request, room string) bool {
	settings, err := s.b.Admit(room)
	if err != nil && !errors.Is(err, bridge.ErrRoomFull) && !errors.Is(err, bridge.ErrRoomLocked) && !errors.Is(err, bridge.ErrDraining) {
		s.refuseErr(w, err)
		return false
	}
	if settings.PIN == "" {
		return true
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(settings.PIN)) == 1 {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="confd"`)
	s.refuse(w, http.StatusUnauthorized, "this room needs its PIN as the bearer token (Authorization: Bearer PIN)")
	return false
}

// refuseErr maps an error of Answer or the bridge to its status.
func (s *Server) refuseErr(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrBadOffer), errors.Is(err, ErrNoAudio), errors.Is(err, ErrNoOpus), errors.Is(err, ErrNotWebRTC):
		status = http.StatusBadRequest
	case errors.Is(err, bridge.ErrBadRoomName), errors.Is(err, ErrNoResource):
		status = http.StatusNotFound
	case errors.Is(err, bridge.ErrRoomLocked):
		status = http.StatusForbidden
	case errors.Is(err, bridge.ErrRoomFull):
		status = http.StatusConflict
	case errors.Is(err, bridge.ErrDraining):
		w.Header().Set("Retry-After", "60")
		status = http.StatusServiceUnavailable
	case errors.Is(err, ErrGathering), errors.Is(err, ErrClosed):
		status = http.StatusServiceUnavailable
	}
	s.refuse(w, status, err.Error())
}

// refuse writes SPEC's JSON error.
func (s *Server) refuse(w http.ResponseWriter, status int, msg string) {
	s.stats.refused.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
