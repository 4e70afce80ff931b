package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"maps"
	"slices"
	"strings"
	"time"

	"confd/bridge"
)

// roomTokenPrefix starts every room token, so that a room token is never mistaken for (or
// compared as) the API token, and a future format can be told apart.
const roomTokenPrefix = "rt1."

// DefaultRoomTokenTTL is how long a room token minted for a participant stays good: long enough
// for a whole meeting (the page cannot ask for a new one), short enough that a participant who
// left does not read the room's roster for days. Tokens are stateless, so leaving the room does
// not revoke one before it expires.
const DefaultRoomTokenTTL = 12 * time.Hour

// RoomTokens mints and verifies read-only room capabilities (issue 8 item 6): a participant who
// joined from the page (WHIP/WHEP answer, SIP-over-WebSocket 200 OK) gets one in the
// X-Confd-Room-Token header, and the API accepts it, as a bearer token or ?token=, for GET of
// that one room, its participants and its events, and for nothing else.
//
// A token is "rt1." + base64url(expiry ‖ HMAC-SHA256(key, label ‖ room ‖ expiry)): the room
// is not in the token (the request's path names it and the MAC binds it) and nothing is stored.
// The daemon derives the key from the API token (NewRoomTokensFrom): the nodes of a cluster,
// which share it, accept each other's tokens (a page's reads go to the room's owner, which may
// be another node than the one it joined through), and a new API token, or a generated one at
// each start, revokes every token.
type RoomTokens struct {
	key [32]byte
	ttl time.Duration
	now func() time.Time
}

// NewRoomTokens returns a minter with a fresh random key whose tokens last ttl (zero means
// DefaultRoomTokenTTL).
func NewRoomTokens(ttl time.Duration) *RoomTokens {
	if ttl <= 0 {
		ttl = DefaultRoomTokenTTL
	}
	t := &RoomTokens{ttl: ttl, now: time.Now}
	_, _ = rand.Read(t.key[:]) // crypto/rand.Read never fails (Go 1.24)
	return t
}

// NewRoomTokensFrom returns a minter whose key is derived from secret (HMAC-SHA256 under a
// label of its own, so the key tells nothing of secret and is used for nothing else): every
// minter given the same secret, such as the API token that the nodes of a cluster share, mints
// and accepts the same tokens. An empty secret gives a fresh random key, as NewRoomTokens.
func NewRoomTokensFrom(secret string, ttl time.Duration) *RoomTokens {
	t := NewRoomTokens(ttl)
	if secret != "" {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte("confd room token key v1"))
		m.Sum(t.key[:0])
	}
	return t
}

// Mint returns a token good for reading room until the TTL is over. It is the RoomToken hook of
// the WebRTC and SIP-over-WebSocket legs.
func (t *RoomTokens) Mint(room string) string {
	exp := uint64(t.now().Add(t.ttl).Unix())
	var raw [8 + sha256.Size]byte
	binary.BigEndian.PutUint64(raw[:8], exp)
	t.mac(raw[8:8], room, exp)
	return roomTokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
}

// Verify reports whether token was minted by t for room and has not expired.
func (t *RoomTokens) Verify(token, room string) bool {
	enc, ok := strings.CutPrefix(token, roomTokenPrefix)
	if !ok || base64.RawURLEncoding.DecodedLen(len(enc)) != 8+sha256.Size {
		return false
	}
	var raw [8 + sha256.Size]byte
	if n, err := base64.RawURLEncoding.Decode(raw[:], []byte(enc)); err != nil || n != len(raw) {
		return false
	}
	exp := binary.BigEndian.Uint64(raw[:8])
	if exp > uint64(1<<62) || t.now().Unix() >= int64(exp) {
		return false
	}
	var want [sha256.Size]byte
	t.mac(want[:0], room, exp)
	return hmac.Equal(raw[8:], want[:])
}

// mac appends the MAC of (room, exp) to dst. The label keeps these MACs apart from any other
// use of a key, and the NUL ends the room's name (which cannot contain one).
func (t *RoomTokens) mac(dst []byte, room string, exp uint64) []byte {
	m := hmac.New(sha256.New, t.key[:])
	m.Write([]byte("confd room token v1\x00"))
	m.Write([]byte(room))
	m.Write([]byte{0})
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], exp)
	m.Write(e[:])
	return m.Sum(dst)
}

// operatorOnly are the data keys of events that are the operator's alone (red team, issue 13),
// left out where a room token reads the events: the name of another room a participant was
// moved to or from ("to", "moved_from": a room's name may be its only secret) in any event; a
// transfer's or a dial-out's target ("uri") and its failure, which names it ("error"); a
// recording's files on the server ("file", "tracks") and its failure, which names them
// ("error"); a forwarder's destination ("host", "port": a recorder's address); a cascade leg's
// name and node, which on the calling node are the owner's SIP address.
var operatorOnly = map[bridge.EventType][]string{
	"":                           {"to", "moved_from"},
	bridge.EventTransfer:         {"uri", "error"},
	bridge.EventDial:             {"uri", "error"},
	bridge.EventRecording:        {"file", "tracks", "error"},
	bridge.EventForwarderStarted: {"host", "port"},
	bridge.EventForwarderStopped: {"host", "port"},
	bridge.EventCascade:          {"name", "node"}, // on the calling node, the owner's SIP address
}

// participantEvent is an event as a room token reads it: a caller's "from" cut to its user
// (redactFrom), and none of its operatorOnly keys.
func participantEvent(e bridge.Event) bridge.Event {
	secret := slices.Concat(operatorOnly[""], operatorOnly[e.Type])
	_, hasFrom := e.Data["from"]
	if !hasFrom && !slices.ContainsFunc(secret, func(k string) bool { _, in := e.Data[k]; return in }) {
		return e
	}
	d := maps.Clone(e.Data)
	for _, k := range secret {
		delete(d, k)
	}
	if hasFrom {
		from, _ := d["from"].(string)
		d["from"] = redactFrom(from)
	}
	e.Data = d
	return e
}
