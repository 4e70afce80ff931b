package cluster

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"confd/bridge"
	"confd/internal/api"
	"confd/internal/guard"
)

// countingBody is a request body of n bytes that counts what is read of it.
type countingBody struct {
	left, read int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > c.left {
		n = c.left
	}
	for i := range p[:n] {
		p[i] = ' '
	}
	c.left -= n
	c.read += n
	return int(n), nil
}

func (c *countingBody) Close() error { return nil }

// TestDeclarationChecksTheTokenBeforeTheBody (review finding 10): a room's declaration through
// the cluster's router is refused for a missing or wrong token before a byte of its body is
// buffered, as the API itself refuses it, and a body over the one cap (guard.MaxBodyBytes) is
// answered 413 saying the cap, not handed on half read; neither reaches the other nodes.
func TestDeclarationChecksTheTokenBeforeTheBody(t *testing.T) {
	var copies atomic.Int32
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		copies.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer peer.Close()
	b := bridge.New(bridge.Config{})
	defer b.Close()
	rt := NewRouter(nodesWithPeers(peer), b, api.New(b, api.Config{Token: "tok"}, nil), "tok", nil)
	put := func(auth string, size int64) (int, string, int64) {
		body := &countingBody{left: size}
		req := httptest.NewRequest("PUT", "/api/rooms/r1", nil)
		req.Body, req.ContentLength = body, size
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, req)
		var p struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		return w.Code, p.Error, body.read
	}
	over := int64(guard.MaxBodyBytes) + 1
	for _, auth := range []string{"", "Bearer wrong"} {
		if code, _, read := put(auth, over); code != http.StatusUnauthorized || read != 0 {
			t.Errorf("PUT with Authorization %q: %d after reading %d bytes, want 401 having read none", auth, code, read)
		}
	}
	code, says, read := put("Bearer tok", over)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(says, strconv.Itoa(guard.MaxBodyBytes)) || read > over {
		t.Errorf("PUT of %d bytes with the token: %d %q, want 413 saying the cap", over, code, says)
	}
	if _, err := b.RoomState("r1"); err == nil {
		t.Error("a refused declaration declared the room")
	}
	if n := copies.Load(); n != 0 {
		t.Errorf("%d refused declarations were copied to the other node", n)
	}
}
