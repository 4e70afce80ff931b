package api

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"confd/bridge"
	"confd/rtpfwd"
)

// TestForwarderAndTransferTokenRules: the forwarder and transfer routes take the API token
// only; a room token, good for reading that very room, is refused (401) on each of them, and
// nothing is started.
func TestForwarderAndTransferTokenRules(t *testing.T) {
	b, h, parts, m := setupWithForwarders(t)
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	body := `{"host":"127.0.0.1","port":` + strconv.Itoa(rx.LocalAddr().(*net.UDPAddr).Port) + `,"codec":"PCMU"}`
	room := "Bearer " + h.cfg.RoomTokens.Mint("r")
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/rooms/r/forwarders", ""},
		{"POST", "/api/rooms/r/forwarders", body},
		{"DELETE", "/api/rooms/r/forwarders/x", ""},
		{"POST", "/api/rooms/r/participants/" + parts[0].ID() + "/transfer", `{"uri":"sip:elsewhere@127.0.0.1"}`},
	} {
		if code, _, _ := call(t, h, c.method, c.path, "application/json", c.body, "Authorization", room); code != 401 {
			t.Errorf("%s %s with a room token: %d, want 401", c.method, c.path, code)
		}
	}
	if list, _ := m.List("r"); len(list) != 0 {
		t.Fatalf("a room token started %d forwarders", len(list))
	}

	code, got, _ := call(t, h, "POST", "/api/rooms/r/forwarders", "application/json", body)
	if code != 201 || got["id"] == "" || got["codec"] != "PCMU" || got["payload_type"] != float64(0) {
		t.Fatalf("POST forwarders with the API token: %d %v", code, got)
	}
	id := got["id"].(string)
	if code, _, text := call(t, h, "GET", "/api/rooms/r/forwarders", "", ""); code != 200 || !strings.Contains(text, id) {
		t.Errorf("GET forwarders: %d %s", code, text)
	}
	if code, _, _ := call(t, h, "GET", "/api/rooms/r", "", ""); code != 200 {
		t.Fatal(code)
	}
	if st, _ := b.RoomState("r"); len(st.Participants) != 3 {
		t.Errorf("the room lists %d participants with a forwarder, want its 3 people", len(st.Participants))
	}
	if code, _, _ := call(t, h, "DELETE", "/api/rooms/r/forwarders/"+id, "application/json", ""); code != 200 {
		t.Errorf("DELETE forwarder: %d", code)
	}
	if code, _, _ := call(t, h, "DELETE", "/api/rooms/r/forwarders/"+id, "application/json", ""); code != 404 {
		t.Errorf("DELETE of a removed forwarder: %d, want 404", code)
	}
}

// TestForwardersDisabled: with an empty allow list every POST is 403 with an error that says
// why; without a manager the routes are 503.
func TestForwardersDisabled(t *testing.T) {
	b, h0, _, _ := setup(t, testToken)
	m := rtpfwd.NewManager(b, rtpfwd.Config{})
	defer m.Close()
	h := New(b, Config{Token: testToken, Forwarders: m}, nil)
	code, got, _ := call(t, h, "POST", "/api/rooms/r/forwarders", "application/json", `{"host":"127.0.0.1","port":5004,"codec":"PCMU"}`)
	if msg, _ := got["error"].(string); code != 403 || !strings.Contains(msg, "allow") {
		t.Errorf("POST with forwarders disabled: %d %v, want 403 naming [forwarders] allow", code, got)
	}
	if code, _, _ := call(t, h0, "GET", "/api/rooms/r/forwarders", "", ""); code != 503 {
		t.Errorf("GET forwarders without a manager: %d, want 503", code)
	}
}

// transferLeg records the transfers asked of it, as a SIP call's leg would start them.
type transferLeg struct {
	fakeLeg
	mu      sync.Mutex
	targets []string
}

func (l *transferLeg) Transfer(_ context.Context, target string) error {
	if !strings.HasPrefix(target, "sip:") && !strings.HasPrefix(target, "sips:") {
		return fmt.Errorf("%w: %q", bridge.ErrBadSetting, target) // as sipleg's parse refuses it
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.targets = append(l.targets, target)
	return nil
}

// TestTransferRoute: a SIP participant's leg is asked to transfer (202); a participant whose leg
// cannot be transferred (WebRTC) is 409; a URI that is not sip: is 400; an unknown id is 404.
func TestTransferRoute(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	leg := &transferLeg{}
	sip, err := b.Join("r", bridge.ParticipantInfo{Name: "dee", Kind: "sip"}, leg)
	if err != nil {
		t.Fatal(err)
	}
	path := func(id string) string { return "/api/rooms/r/participants/" + id + "/transfer" }
	if code, got, _ := call(t, h, "POST", path(sip.ID()), "application/json", `{"uri":"sip:desk@192.0.2.1"}`); code != 202 || got["state"] != "requested" {
		t.Errorf("transfer of a SIP participant: %d %v, want 202", code, got)
	}
	if len(leg.targets) != 1 || leg.targets[0] != "sip:desk@192.0.2.1" {
		t.Errorf("the leg was asked %v", leg.targets)
	}
	for _, c := range []struct {
		id, body string
		want     int
	}{
		{parts[0].ID(), `{"uri":"sip:desk@192.0.2.1"}`, 409}, // fakeLeg: not transferable
		{sip.ID(), `{"uri":"tel:+15551234"}`, 400},
		{sip.ID(), `{"uri":""}`, 400},
		{"nobody", `{"uri":"sip:desk@192.0.2.1"}`, 404},
	} {
		if code, got, _ := call(t, h, "POST", path(c.id), "application/json", c.body); code != c.want {
			t.Errorf("transfer %s %s: %d %v, want %d", c.id, c.body, code, got, c.want)
		}
	}
	if len(leg.targets) != 1 {
		t.Errorf("refused transfers reached the leg: %v", leg.targets)
	}
}
