package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"confd/bridge"
	"confd/codec"
	"confd/internal/config"
	"confd/testkit/rtptest"
)

// TestPlayReplySaysDurationSeconds: POST …/play answers how long the sound lasts as
// duration_seconds, the one spelling of durations in events and replies, and still as
// duration_ms for the integrators that read it; the player it joins is not announced.
func TestPlayReplySaysDurationSeconds(t *testing.T) {
	d, base := inProcess(t, "tok", config.HTTPSecurity{})
	ada, err := d.bridge.Join("standup", bridge.ParticipantInfo{Name: "Ada", Kind: bridge.KindSIP, Output: codec.Format{Codec: codec.PCMU}}, rtptest.NopLeg{})
	if err != nil {
		t.Fatal(err)
	}
	defer ada.Leave("bye")
	sub := d.bridge.Bus().Subscribe("standup", 16, "")
	defer sub.Close()
	req, _ := http.NewRequest("POST", base+"/api/rooms/standup/play", strings.NewReader(`{"tone":{"hz":440,"ms":250}}`))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("play: %d %v %v", resp.StatusCode, got, err)
	}
	if got["duration_seconds"] != 0.25 || got["duration_ms"] != 250.0 {
		t.Errorf("play reply %v, want duration_seconds 0.25 and duration_ms 250", got)
	}
	for {
		select {
		case e := <-sub.C:
			if e.Type == bridge.EventJoin {
				t.Errorf("the player was announced: %+v", e)
			}
			continue
		default:
		}
		break
	}
}
