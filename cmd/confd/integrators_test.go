package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/internal/config"
	"confd/testkit/rtptest"
)

// TestRestartKeepsIDsUniqueAndRoomsDeclared is issue 10's restart: confd runs, people join and
// leave, confd stops and starts again on the same data directory. A webhook receiver that
// deduplicates by id (or keeps the highest id seen) must lose nothing of the second run: no
// event or participant id of the second run may equal one of the first, and every event id of
// the second run sorts after the first run's. A room declared with PUT is still declared.
func TestRestartKeepsIDsUniqueAndRoomsDeclared(t *testing.T) {
	dataDir := t.TempDir()
	withData := func(c *config.Config) { c.DataDir = dataDir }
	run := func(declare bool) (events, parts []string, base string, stop func()) {
		d, base := inProcess(t, "tok", config.HTTPSecurity{}, withData)
		if declare {
			if code := send(t, "PUT", base+"/api/rooms/weekly", `{"pin":"4321"}`, "Authorization", "Bearer tok", "Content-Type", "application/json"); code != 200 {
				t.Fatalf("PUT: %d", code)
			}
		}
		sub := d.bridge.Bus().Subscribe("", 64, "")
		for _, name := range []string{"ann", "bob"} {
			p, err := d.bridge.Join("standup", bridge.ParticipantInfo{Name: name, Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, rtptest.NopLeg{})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, p.ID())
			p.Leave("bye")
		}
		deadline := time.After(10 * time.Second)
		for len(events) < 6 { // room_started, join, leave, room_finished, room_started, ...
			select {
			case e := <-sub.C:
				events = append(events, e.ID)
			case <-deadline:
				t.Fatalf("events %v", events)
			}
		}
		sub.Close()
		return events, parts, base, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			d.shutdown(ctx) // inProcess's cleanup shuts it down again: a no-op
		}
	}
	firstEvents, firstParts, _, stop := run(true)
	stop()
	secondEvents, secondParts, base, _ := run(false)

	if !slices.IsSorted(slices.Concat(firstEvents, secondEvents)) {
		t.Errorf("event ids out of order across the restart: %v then %v", firstEvents, secondEvents)
	}
	all := slices.Concat(firstEvents, secondEvents, firstParts, secondParts)
	slices.Sort(all)
	if len(slices.Compact(all)) != len(firstEvents)+len(secondEvents)+len(firstParts)+len(secondParts) {
		t.Errorf("an id repeats across the restart: events %v %v, participants %v %v", firstEvents, secondEvents, firstParts, secondParts)
	}
	req, _ := http.NewRequest("GET", base+"/api/rooms/weekly", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st bridge.RoomState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 || !st.Declared || st.Settings.PIN != "4321" {
		t.Errorf("declared room after the restart: %d %+v %v", resp.StatusCode, st, err)
	}
}

// TestJSONLogs: -log-format json writes every line as one JSON object with time, level and msg,
// for log collectors.
func TestJSONLogs(t *testing.T) {
	d := startDaemon(t, "-log-format", "json", "-api-token", "tok", "-data-dir", filepath.Join(t.TempDir(), "state"))
	// Ready can answer before the start-up line is written: wait for it.
	waitLog(t, d, `"msg":"confd started"`)
	lines := strings.Split(strings.TrimSpace(d.Log()), "\n")
	started := false
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("not a JSON line: %q", line)
			continue
		}
		if m["time"] == nil || m["level"] == nil {
			t.Errorf("line without time or level: %q", line)
		}
		started = started || m["msg"] == "confd started"
	}
	if !started {
		t.Errorf("no \"confd started\" line in %q", lines)
	}
}
