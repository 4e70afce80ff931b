package webrtcleg

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"confd/bridge"
	"confd/internal/guard"
	"confd/problem"
)

// maxOfferBytes bounds a WHIP/WHEP request body; browser offers are a few kilobytes.
const maxOfferBytes = 64 << 10

// Handler returns the WHIP (RFC 9725) and WHEP endpoints: POST /whip/ROOM and POST /whep/ROOM
// create a call (201 Created, Location /whip/ROOM/ID, the SDP answer, ICE servers as Link
// headers), DELETE on the Location ends it (200), PATCH answers 405 (no trickle ICE or ICE
// restart: the answer carries every candidate), OPTIONS answers CORS preflights. Errors are
// problem documents (package problem: RFC 9457 JSON, with "error"): 400 bad room name, malformed SDP, no audio or no Opus (whatever the PIN);
// 401 wrong or missing PIN bearer token; 403 locked room; 404 unknown resource; 409 full
// room; 413 body too large; 415 not application/sdp; 429 with Retry-After for a source that
// guessed PINs too often, starts sessions too fast or holds Config.SessionsPerSource; 503 with
// Retry-After when draining or MaxSessions are held, 503 when gathering failed. A 201 carries
// X-Confd-Room-Token when Config.RoomToken gives one.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Location, Link, ETag, "+roomTokenHeader)
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
	if err := bridge.CheckRoomName(room); err != nil {
		s.refuseErr(w, err) // 400, as the API answers
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

// create handles POST /whip/ROOM and /whep/ROOM. The order of the checks is what keeps a room
// PIN from being guessed: a source that guessed too often is refused (429) without its PIN
// being looked at; the offer is read and found valid (400 otherwise, the same whatever the PIN)
// and the source admitted under its session caps (429, 503) before the PIN's verdict (401) is
// given; only a right PIN with a valid offer gets on to ICE.
func (s *Server) create(w http.ResponseWriter, r *http.Request, kind, room string) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/sdp" {
		s.refuse(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type must be application/sdp, not %q", r.Header.Get("Content-Type")))
		return
	}
	settings, err := s.b.Admit(room)
	if err != nil {
		s.refuseErr(w, err)
		return
	}
	if err := s.pinAllowed(r, room, settings.PIN+settings.ModeratorPIN); err != nil {
		s.refuseErr(w, err)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxOfferBytes))
	if err != nil {
		s.refuse(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the offer must be at most %d bytes", maxOfferBytes))
		return
	}
	name := r.URL.Query().Get("name") // the bridge cuts and cleans it (bridge.MaxNameLen)
	// The bearer token is the room's PIN; its moderator PIN makes a moderator (bridge's
	// moderator.go), and in a room with only a moderator PIN no token is an ordinary
	// participant (bridge.PINToCheck).
	token, gave := guard.BearerToken(r)
	secret, moderator := bridge.PINToCheck(settings.PIN, settings.ModeratorPIN, token, gave)
	answer, c, err := s.answer(r.Context(), room, string(body), JoinInfo{
		Name: name, From: kind + ":" + r.RemoteAddr, Listen: kind == "whep", Kind: kind, Remote: r.RemoteAddr,
		Moderator: moderator,
	}, func() error { return s.checkPIN(r, room, secret) })
	if err != nil {
		s.refuseErr(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/sdp")
	h.Set("Location", "/"+kind+"/"+room+"/"+c.ID())
	h.Set("ETag", `"`+c.ID()+`"`)
	if s.cfg.RoomToken != nil {
		if token := s.cfg.RoomToken(room); token != "" {
			h.Set(roomTokenHeader, token)
		}
	}
	for _, l := range s.iceServerLinks() {
		h.Add("Link", l)
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

// roomTokenHeader carries the read-only capability for the caller's room (Config.RoomToken).
const roomTokenHeader = "X-Confd-Room-Token"

// errPIN is a missing or wrong room PIN: HTTP 401 with WWW-Authenticate (RFC 6750 section 3).
var errPIN = errors.New("this room needs its PIN as the bearer token (Authorization: Bearer PIN)")

// pinGuesser is the key of the source whose PIN tries are counted (guard.Attempts).
func pinGuesser(r *http.Request) string { return guard.SourceOf(r.RemoteAddr).String() }

// pinAllowed reports whether the request's source may try the PIN of a room that has one: a
// source that has guessed too often lately is refused (a *guard.Refusal, HTTP 429) before its
// PIN is looked at, so that the refusal says nothing about it.
func (s *Server) pinAllowed(r *http.Request, room, pin string) error {
	if pin == "" {
		return nil
	}
	return s.attempts.Allow(pinGuesser(r), room, time.Now())
}

// checkPIN checks the room PIN presented as a bearer token (RFC 9725 section 4.5, RFC 6750)
// and counts the verdict in the same step (guard.Attempts.Check): a wrong PIN is a failure of its
// source and room, a right one frees the source from the room's count, and a source that guessed
// too often meanwhile is refused unchecked. No token at all is asked for (401) but is not a guess.
func (s *Server) checkPIN(r *http.Request, room, pin string) error {
	if pin == "" {
		return nil
	}
	token, ok := guard.BearerToken(r)
	if !ok {
		return errPIN
	}
	err := s.attempts.Check(pinGuesser(r), room, token, pin, time.Now())
	if errors.Is(err, guard.ErrWrongSecret) {
		return errPIN
	}
	return err
}

// authorized checks the bearer token of a request on a resource (DELETE) by the rule create
// follows (bridge.PINToCheck), against the room's settings as they are (bridge.Settings: also
// while draining or ending), answering the refusal itself. The room's PIN or moderator PIN
// passes; in a room with only a moderator PIN, as in one without PIN, no token passes: the
// resource URL, which only its creator was given, is the capability.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request, room string) bool {
	settings := s.b.Settings(room)
	token, gave := guard.BearerToken(r)
	secret, _ := bridge.PINToCheck(settings.PIN, settings.ModeratorPIN, token, gave)
	if err := s.pinAllowed(r, room, secret); err != nil {
		s.refuseErr(w, err)
		return false
	}
	if err := s.checkPIN(r, room, secret); err != nil {
		s.refuseErr(w, err)
		return false
	}
	return true
}

// refuseErr maps an error of Answer to its status, and the bridge's errors and guard's refusals
// to bridge.StatusOf's.
func (s *Server) refuseErr(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, errPIN) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="confd"`)
		status = http.StatusUnauthorized
	} else if st, ok := StatusOf(err); ok {
		status = st.HTTP
		if st.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(st.RetryAfter))
		}
	}
	s.refuse(w, status, err.Error())
}

// refuse writes docs/SPEC.md's JSON error (a problem document, as every HTTP refusal).
func (s *Server) refuse(w http.ResponseWriter, status int, msg string) {
	s.stats.refused.Add(1)
	problem.Write(w, status, msg)
}
