package api

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/testkit/rtptest"
)

// TestRoomTokenEventsNameNoOtherRoom (red team, issue 13): a participant's room token reads
// its room's events, and the events of issue 13 carried what only the operator may see: a move
// named the room someone went to ("to": a breakout room whose name is its only secret, which
// the reader could then call into) or came from ("moved_from"), a transfer its target, and a
// forwarder the address of the recorder. The room token's stream now leaves them out; the API
// token's keeps them.
func TestRoomTokenEventsNameNoOtherRoom(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	if _, err := b.Join("hidden-origin", bridge.ParticipantInfo{Name: "eve", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, &fakeLeg{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close) // after the streams' contexts are cancelled (cleanups run last first)
	roomTok := h.cfg.RoomTokens.Mint("r")
	asRoom, asOp := stream(t, srv.URL, roomTok), stream(t, srv.URL, testToken)

	if _, err := b.Move("r", parts[0].ID(), bridge.MoveRequest{Room: "secret-breakout"}); err != nil {
		t.Fatal(err)
	}
	st, _ := b.RoomState("hidden-origin")
	if _, err := b.Move("hidden-origin", st.Participants[0].ID, bridge.MoveRequest{Room: "r"}); err != nil {
		t.Fatal(err)
	}
	parts[1].PublishTransfer(map[string]any{"uri": "sip:desk@pbx.internal.example", "state": "accepted"})
	b.Bus().Publish(bridge.Event{Type: bridge.EventForwarderStarted, Room: "r",
		Data: map[string]any{"forwarder": "f1", "host": "10.9.8.7", "port": 5004, "codec": "PCMU"}})
	// A dial-out's callee and a recording's path on the server are the operator's too.
	b.Bus().Publish(bridge.Event{Type: bridge.EventDial, Room: "r", Data: map[string]any{"id": "d1", "uri": "sip:guest@pstn.internal.example", "state": "ringing"}})
	b.Bus().Publish(bridge.Event{Type: bridge.EventRecording, Room: "r", Data: map[string]any{"state": "started", "file": "/var/lib/confd/recordings/r-1.ogg"}})

	collect := func(ch <-chan string) string {
		var all []string
		for len(all) < 6 {
			select {
			case l, ok := <-ch:
				if !ok {
					t.Fatalf("stream ended after %q", all)
				}
				all = append(all, l)
			case <-time.After(5 * time.Second):
				t.Fatalf("only %d events: %q", len(all), all)
			}
		}
		return strings.Join(all, "\n")
	}
	room, op := collect(asRoom), collect(asOp)
	for _, secret := range []string{"secret-breakout", "hidden-origin", "pbx.internal", "10.9.8.7", "pstn.internal", "/var/lib/confd"} {
		if strings.Contains(room, secret) {
			t.Errorf("the room token's events show %q:\n%s", secret, room)
		}
		if !strings.Contains(op, secret) {
			t.Errorf("the API token's events lack %q:\n%s", secret, op)
		}
	}
	if !strings.Contains(room, `"reason":"moved"`) || !strings.Contains(room, `"forwarder":"f1"`) ||
		!strings.Contains(room, `"state":"ringing"`) || !strings.Contains(room, `"state":"started"`) {
		t.Errorf("the room token's events lost more than the secrets:\n%s", room)
	}
}

// stream opens room r's event stream with bearer and returns its data lines, once the stream
// has answered (so that events published afterwards are in it).
func stream(t *testing.T, base, bearer string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/rooms/r/events", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("events: %s", resp.Status)
	}
	lines := make(chan string, 64)
	go func() {
		defer resp.Body.Close()
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				lines <- data
			}
		}
	}()
	return lines
}

// TestRoomTokenCannotUseIssue13Routes (red team, issue 13): a participant's room token reads
// its room and nothing else; the routes of issue 13 that act (move, transfer, forwarders,
// listing forwarders: their destinations) answer 401 to it, as a bearer token or ?token=.
func TestRoomTokenCannotUseIssue13Routes(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	tok := h.cfg.RoomTokens.Mint("r")
	id := parts[0].ID()
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/rooms/r/participants/" + id + "/move", `{"room":"elsewhere"}`},
		{"POST", "/api/rooms/r/participants/" + id + "/transfer", `{"uri":"sip:a@b"}`},
		{"POST", "/api/rooms/r/forwarders", `{"host":"127.0.0.1","port":5004,"codec":"PCMU"}`},
		{"GET", "/api/rooms/r/forwarders", ""},
		{"DELETE", "/api/rooms/r/forwarders/x", ""},
		{"PATCH", "/api/rooms/r/participants/" + id, `{"moderator":true}`},
		{"PUT", "/api/rooms/r", `{"hold_music":"/dev/zero"}`},
	} {
		ctype := ""
		if c.body != "" {
			ctype = "application/json"
		}
		for _, q := range []bool{false, true} {
			path, auth := c.path, "Bearer "+tok
			if q {
				path, auth = path+"?token="+tok, ""
			}
			if code, _, body := call(t, h, c.method, path, ctype, c.body, "Authorization", auth); code != 401 {
				t.Errorf("room token: %s %s: %d %s, want 401", c.method, path, code, body)
			}
		}
	}
	if st, _ := b.RoomState("r"); len(st.Participants) != 3 || st.Participants[0].Moderator {
		t.Errorf("a room token changed the room: %+v", st.Participants)
	}
}

// TestRoomTokenEventsLeaveOutWhatNamesAPathOrATarget: a room token's events carry no failure
// text that names what the operator alone may know: a recording's write error names the file on
// the server, a dial-out's or transfer's error the target URI. Both were passed on while the
// file and uri beside them were left out.
func TestRoomTokenEventsLeaveOutWhatNamesAPathOrATarget(t *testing.T) {
	for _, e := range []bridge.Event{
		{Type: bridge.EventRecording, Data: map[string]any{"state": "stopped", "file": "/srv/rec/r.wav", "error": "write /srv/rec/r.wav: no space left on device"}},
		{Type: bridge.EventDial, Data: map[string]any{"state": "failed", "uri": "sip:ceo@10.0.0.9", "error": "dial sip:ceo@10.0.0.9: 486 Busy Here"}},
		{Type: bridge.EventTransfer, Data: map[string]any{"uri": "sip:ceo@10.0.0.9", "error": "REFER to sip:ceo@10.0.0.9 refused"}},
	} {
		got := participantEvent(e)
		for _, k := range []string{"file", "uri", "error"} {
			if _, ok := got.Data[k]; ok {
				t.Errorf("%s event as a room token reads it: %v still has %q", e.Type, got.Data, k)
			}
		}
		if _, ok := e.Data["error"]; !ok {
			t.Errorf("%s: the operator's own event lost its error", e.Type)
		}
	}
}

// TestRoomTokensFromTheSameSecretAgree: two minters given the same secret (two nodes of a
// cluster given the same API token) accept each other's tokens, so that a page whose reads go
// to the room's owner is not refused there; another secret, or none, does not. The key was
// random per process: a page on a node that did not own its room got 401 for its roster and
// events.
func TestRoomTokensFromTheSameSecretAgree(t *testing.T) {
	a, b := NewRoomTokensFrom("cluster-api-token", 0), NewRoomTokensFrom("cluster-api-token", 0)
	tok := a.Mint("standup")
	if !b.Verify(tok, "standup") {
		t.Fatal("a node does not accept a token another node of its cluster minted")
	}
	if b.Verify(tok, "other") {
		t.Error("a token for one room reads another")
	}
	if NewRoomTokensFrom("another-token", 0).Verify(tok, "standup") || NewRoomTokensFrom("", 0).Verify(tok, "standup") {
		t.Error("a token is accepted under another key")
	}
	if NewRoomTokensFrom("", 0).key == NewRoomTokensFrom("", 0).key {
		t.Error("no secret: the keys are not random")
	}
}

// TestRoomTokenDoesNotSeeANodesAddress: on the calling node a cascade leg is named for the
// owner's SIP address ("cascade to 10.0.0.2:5060", its node too); a room token reads it as
// "cascade", in the room's state and in its cascade events (red team: a room-token client that
// asked a node for its own state saw the address).
func TestRoomTokenDoesNotSeeANodesAddress(t *testing.T) {
	e := participantEvent(bridge.Event{Type: bridge.EventCascade, Data: map[string]any{
		"state": "joined", "node": "10.0.0.2:5060", "name": "cascade to 10.0.0.2:5060", "kind": bridge.KindCascade}})
	if _, ok := e.Data["name"]; ok {
		t.Errorf("cascade event as a room token reads it: %v", e.Data)
	}
	if _, ok := e.Data["node"]; ok {
		t.Errorf("cascade event as a room token reads it: %v", e.Data)
	}
	b, h, _, _ := setup(t, testToken)
	if _, err := b.Join("r", bridge.ParticipantInfo{Name: "cascade to 10.0.0.2:5060", Kind: bridge.KindCascade, Cascade: "10.0.0.2:5060",
		Output: codec.Format{Codec: codec.PCMU}}, rtptest.NopLeg{}); err != nil {
		t.Fatal(err)
	}
	tok := h.cfg.RoomTokens.Mint("r")
	code, _, body := call(t, h, "GET", "/api/rooms/r", "", "", "Authorization", "Bearer "+tok)
	if code != 200 || strings.Contains(body, "10.0.0.2") {
		t.Errorf("GET as a room token: %d %s", code, body)
	}
}
