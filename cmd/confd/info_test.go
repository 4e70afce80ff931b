package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"confd/bridge"
	"confd/internal/config"
)

// TestInfoIsWorkedOutOnceAtStart (review finding 11): GET /api/info, public, answers from what
// start worked out once (the LAN address, the SIP host, the scheme); a request opens no socket
// and reads no listener (this daemon has none).
func TestInfoIsWorkedOutOnceAtStart(t *testing.T) {
	d := &daemon{cfg: config.Default()}
	d.cfg.DialIn = []config.DialIn{{Number: "+15550100"}}
	d.where = reachability{sipHost: "192.0.2.7:5062", https: true}
	w := httptest.NewRecorder()
	d.serveInfo(w, httptest.NewRequest("GET", "/api/info", nil))
	var got info
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 {
		t.Fatalf("GET /api/info: %d %s", w.Code, w.Body)
	}
	if got.SIP.Host != "192.0.2.7" || got.SIP.Port != 5062 || got.SIP.URITemplate != "sip:{room}@192.0.2.7:5062" ||
		!got.TLS || !slices.Equal(got.SIP.Transports, sipTransports) || !slices.Equal(got.DialIn, []string{"+15550100"}) {
		t.Errorf("GET /api/info = %s", w.Body)
	}
}

// TestBannerSaysTheRoomNameRule (review finding 11): the banner states the room-name rule
// whole (bridge.RoomNamePattern, length included) and the transports GET /api/info names, and
// the moderator link and the web page share one scheme.
func TestBannerSaysTheRoomNameRule(t *testing.T) {
	var log bytes.Buffer
	d := &daemon{cfg: config.Default(), log: slog.New(slog.NewTextHandler(&log, nil)), tokenSrc: "flag"}
	httpAddr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}
	sipAddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	d.where = d.reach(httpAddr, sipAddr, true)
	d.banner(httpAddr, sipAddr)
	for _, want := range []string{
		"any room name " + bridge.RoomNamePattern,
		"transports=" + strings.Join(sipTransports, ","),
		`moderator=https://127.0.0.1:8443/#moderate`,
		"url=https://127.0.0.1:8443/",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the banner lacks %q:\n%s", want, log.String())
		}
	}
}
