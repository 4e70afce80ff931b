package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/testkit"
	"confd/testkit/chromium"
)

// TestModeratorPage is the moderator view end to end: confd with an API token, a baresip phone
// in a room, and a moderator's page 390 px wide that joins no call, opened by the moderator
// link (#moderate?token=…, as confd prints it at start). Its
// Mute on the phone's row mutes the phone in the API's state and sends the mute event; its
// Record toggle on and off leaves an Ogg recording; Remove, once confirmed, hangs the phone up.
func TestModeratorPage(t *testing.T) {
	requirePeers(t)
	const token = "e2e-moderator-token"
	const room = "e2e-moderate"
	// recording_dir keeps the recordings out of the tree.
	recDir := t.TempDir()
	cfgFile := filepath.Join(t.TempDir(), "confd.toml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf("recording_dir = %q\n", recDir)), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "-api-token", token, "-config", cfgFile)
	requireServed(t, d, "GET", "/", "the web page")
	requireServed(t, d, "GET", "/api/rooms/"+room+"/recording", "recording")

	events := subscribeEvents(t, d, token, room)
	phone := startPhone(t, d, room)
	phoneID := awaitParticipant(t, d, token, room, "Phone")

	t.Setenv("CONFD_E2E_API_TOKEN", token) // drive.mjs types it into the moderator view
	br := chromium.Join(t, d.URL("/"), nil, chromium.Spec{Name: "Mod", Room: room, Mode: "moderate"})
	if alert, refused := br.Refused["Mod"]; refused {
		t.Fatalf("the moderator view refused to watch room %s: %q", room, alert)
	}

	// Mute on the phone's row.
	br.Send("moderate Mod mute Phone")
	ev := br.Await("moderated", 20*time.Second)
	t.Logf("after Mute the phone's row says %q (alert %q)", ev.Status, ev.Alert)
	if ev.Alert != "" || !strings.Contains(ev.Status, "muted") {
		t.Errorf("after Mute the phone's row says %q with alert %q, want it muted and no alert", ev.Status, ev.Alert)
	}
	events.await(t, "the phone's mute event", func(e bridge.Event) bool {
		return e.Type == bridge.EventMute && e.Participant == phoneID && e.Data["muted"] == true
	})
	for _, p := range roomState(t, d, token, room).Participants {
		if p.ID == phoneID && !p.Muted {
			t.Errorf("GET /api/rooms/%s: the phone is not muted: %+v", room, p)
		}
	}

	// Record, then stop: the file the events name exists and is Ogg.
	br.Send("moderate Mod record")
	ev = br.Await("moderated", 20*time.Second)
	started := events.await(t, "recording started", func(e bridge.Event) bool {
		return e.Type == bridge.EventRecording && e.Data["state"] == "started"
	})
	file, _ := started.Data["file"].(string)
	t.Logf("recording %s; the page says %q", file, ev.Status)
	if file == "" || filepath.Dir(file) != recDir {
		t.Fatalf("recording event %+v: want a file in recording_dir %s", started, recDir)
	}
	if ev.Alert != "" || ev.Status != "Recording to "+filepath.Base(file) {
		t.Errorf("after Record the page says %q with alert %q, want %q", ev.Status, ev.Alert, "Recording to "+filepath.Base(file))
	}
	time.Sleep(time.Second)
	shots := br.Screenshot()
	br.Send("moderate Mod record")
	ev = br.Await("moderated", 20*time.Second)
	events.await(t, "recording stopped", func(e bridge.Event) bool {
		return e.Type == bridge.EventRecording && e.Data["state"] == "stopped" && e.Data["file"] == file
	})
	if ev.Alert != "" || !strings.HasPrefix(ev.Status, "Saved "+filepath.Base(file)) {
		t.Errorf("after stopping the page says %q with alert %q, want it saved", ev.Status, ev.Alert)
	}
	if head, err := os.ReadFile(file); err != nil || len(head) < 1000 || !strings.HasPrefix(string(head), "OggS") {
		t.Errorf("recording %s: %d bytes, %v; want an Ogg file of a second", file, len(head), err)
	}

	// Remove, confirmed: the phone is hung up.
	br.Send("moderate Mod kick Phone")
	ev = br.Await("moderated", 20*time.Second)
	t.Logf("after Remove the page says %q (alert %q)", ev.Status, ev.Alert)
	if _, err := phone.WaitClosed(callTimeout); err != nil {
		t.Errorf("the phone was not hung up: %v", err)
	}
	for name, p := range shots {
		if st, err := os.Stat(p); err != nil || st.Size() < 1000 {
			t.Errorf("screenshot of %s %s: %v", name, p, err)
		} else {
			t.Logf("screenshot %s", p)
		}
	}
	br.Leave()
}

// getRoom is GET /api/rooms/ROOM with the bearer token: the room's state, or an error when the
// request fails or the answer is not a 200 with a room in it.
func getRoom(d *daemon, token, room string) (bridge.RoomState, error) {
	var st bridge.RoomState
	status, out, err := d.API("GET", "/api/rooms/"+room, token, nil)
	if err != nil {
		return st, err
	}
	if status != http.StatusOK {
		return st, fmt.Errorf("GET /api/rooms/%s = %d", room, status)
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return st, fmt.Errorf("GET /api/rooms/%s: %w", room, err)
	}
	return st, nil
}

// roomState is getRoom that fails the test on an error.
func roomState(t *testing.T, d *daemon, token, room string) bridge.RoomState {
	t.Helper()
	st, err := getRoom(d, token, room)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// awaitParticipant waits (up to callTimeout) for a participant named name in room and returns
// its id. A phone's call is established for it when it sends its ACK, and confd joins it to the
// room on receiving that ACK: a moment later.
func awaitParticipant(t *testing.T, d *daemon, token, room, name string) string {
	t.Helper()
	id := ""
	joined := testkit.WaitFor(callTimeout, func() bool {
		st, err := getRoom(d, token, room)
		if err != nil {
			return false // the room may not exist yet
		}
		for _, p := range st.Participants {
			if p.Name == name {
				id = p.ID
				return true
			}
		}
		return false
	})
	if !joined {
		t.Fatalf("%s never joined room %s", name, room)
	}
	return id
}

// roomEvents is a room's server-sent events as the control API streams them, in order.
type roomEvents struct {
	c    chan bridge.Event
	seen []bridge.Event
}

// subscribeEvents opens GET /api/rooms/ROOM/events with the token until the test ends.
func subscribeEvents(t *testing.T, d *daemon, token, room string) *roomEvents {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", d.URL("/api/rooms/"+room+"/events"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("GET /api/rooms/%s/events: %v %v", room, resp, err)
	}
	ev := &roomEvents{c: make(chan bridge.Event, 256)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			// Every confd event is one data: line (JSON has no newline).
			var e bridge.Event
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && json.Unmarshal([]byte(data), &e) == nil {
				select {
				case ev.c <- e:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close(); <-done })
	return ev
}

// await returns the first event, from the stream's start, that match accepts.
func (r *roomEvents) await(t *testing.T, what string, match func(bridge.Event) bool) bridge.Event {
	t.Helper()
	for _, e := range r.seen {
		if match(e) {
			return e
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-r.c:
			r.seen = append(r.seen, e)
			if match(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("%s: not seen within 10s; events: %+v", what, r.seen)
		}
	}
}
