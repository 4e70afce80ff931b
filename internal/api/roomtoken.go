package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"maps"
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
// is not in the token (the request's path names it and the MAC binds it), nothing is stored,
// and the key is random per process, so a restart revokes every token.
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

// participantEvent is an event as a room token reads it: a caller's "from" cut to its user
// (redactFrom), and without what is the operator's alone (red team, issue 13): the name of
// another room a participant was moved to or from ("to", "moved_from": a room's name may be
// its only secret), a transfer's or a dial-out's target ("uri"), a recording's files on the
// server ("file", "tracks") and a forwarder's destination ("host", "port": a recorder's
// address).
func participantEvent(e bridge.Event) bridge.Event {
	secret := []string{"to", "moved_from"}
	switch e.Type {
	case bridge.EventTransfer, bridge.EventDial:
		secret = append(secret, "uri")
	case bridge.EventRecording:
		secret = append(secret, "file", "tracks") // paths on the server's disk
	case bridge.EventForwarderStarted, bridge.EventForwarderStopped:
		secret = append(secret, "host", "port")
	}
	_, hasFrom := e.Data["from"]
	has := hasFrom
	for _, k := range secret {
		_, in := e.Data[k]
		has = has || in
	}
	if !has {
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
