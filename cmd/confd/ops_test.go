package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"confd/bridge"
	"confd/internal/config"
	"confd/internal/recording"
)

// apiCall makes one request with the bearer token token and body as JSON, and returns the
// status and the body of the answer.
func apiCall(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// answer is apiCall that returns the error of a problem answer instead of the body.
func answer(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	code, raw := apiCall(t, method, url, token, body)
	var p struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(raw, &p)
	return code, p.Error
}

// TestRecordingAndPlayAnswerThroughTheStatusTable (review findings 4 and 5): the daemon's
// recording and play routes answer as every other route does, through the bridge's status
// table: a bad room name 400 with the rule, a room nobody is in 404 (play and recording
// alike), a second recording 409, stopping none 404, a tone out of range 400 with a message a
// person can read, which states the limits openapi.json states.
func TestRecordingAndPlayAnswerThroughTheStatusTable(t *testing.T) {
	const token = "ops-test-token"
	d, base := inProcess(t, token, config.HTTPSecurity{})
	joinSilent(t, d, "standup", "Ada")
	rooms := base + "/api/rooms/"
	for _, c := range []struct {
		method, path, body string
		want               int
		says               string
	}{
		{"POST", "bad.name/recording", "{}", 400, bridge.RoomNamePattern},
		{"GET", "bad.name/recording", "", 400, bridge.RoomNamePattern},
		{"DELETE", "bad.name/recording", "", 400, bridge.RoomNamePattern},
		{"POST", "bad.name/play", `{"prompt":"welcome"}`, 400, bridge.RoomNamePattern},
		{"POST", "nobody/play", `{"prompt":"welcome"}`, 404, bridge.ErrNoRoom.Error()},
		{"POST", "nobody/recording", "{}", 404, bridge.ErrNoRoom.Error()},
		{"DELETE", "nobody/recording", "", 404, "not being recorded"},
		{"POST", "standup/play", `{"prompt":"no-such"}`, 400, "welcome"},
		{"POST", "standup/play", `{"tone":{"hz":5,"ms":100}}`, 400, "hz must be 20-20000"},
		{"POST", "standup/play", `{"tone":{"hz":440,"ms":0}}`, 400, "ms must be 1-10000"},
		{"POST", "standup/play", `{"tone":{"hz":440,"ms":60000}}`, 400, "ms must be 1-10000"},
		{"POST", "standup/play", `{"tone":{"hz":440,"ms":9223372036854}}`, 400, "ms must be 1-10000"},
		{"POST", "standup/play", `{}`, 400, `either "prompt" or "tone"`},
		{"POST", "standup/play", `{"tone":{"hz":440,"ms":100}}`, 202, ""},
		{"POST", "standup/recording", "{}", 201, ""},
		{"POST", "standup/recording", "{}", 409, "already being recorded"},
		{"DELETE", "standup/recording", "", 200, ""},
		{"DELETE", "standup/recording", "", 404, "not being recorded"},
	} {
		code, says := answer(t, c.method, rooms+c.path, token, c.body)
		if code != c.want || !strings.Contains(says, c.says) || strings.Contains(says, "{Freq:") {
			t.Errorf("%s %s %s: %d %q, want %d saying %q", c.method, c.path, c.body, code, says, c.want, c.says)
		}
	}
}

// TestToneLimitsAreOpenAPIs (review finding 5): openapi.json states the tone limits that
// recording.NewTone applies, hz included.
func TestToneLimitsAreOpenAPIs(t *testing.T) {
	raw, err := os.ReadFile("../../internal/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	var play struct {
		RequestBody struct {
			Content map[string]struct {
				Schema struct {
					Properties map[string]struct {
						Properties map[string]struct {
							Minimum *float64 `json:"minimum"`
							Maximum *float64 `json:"maximum"`
						} `json:"properties"`
					} `json:"properties"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc.Paths["/api/rooms/{room}/play"]["post"], &play); err != nil {
		t.Fatal(err)
	}
	tone := play.RequestBody.Content["application/json"].Schema.Properties["tone"].Properties
	for field, want := range map[string][2]float64{
		"hz": {recording.MinToneHz, recording.MaxToneHz},
		"ms": {1, float64(recording.MaxToneDuration.Milliseconds())},
	} {
		got := tone[field]
		if got.Minimum == nil || got.Maximum == nil || *got.Minimum != want[0] || *got.Maximum != want[1] {
			t.Errorf("openapi.json tone.%s: minimum %v maximum %v, want %v-%v", field, got.Minimum, got.Maximum, want[0], want[1])
		}
	}
	if _, err := recording.NewTone(recording.MaxToneHz, int(recording.MaxToneDuration.Milliseconds())); err != nil {
		t.Errorf("a tone at the limits: %v", err)
	}
	for _, c := range [][2]float64{{recording.MinToneHz - 1, 100}, {recording.MaxToneHz + 1, 100}, {440, 0}, {440, float64(recording.MaxToneDuration.Milliseconds() + 1)}} {
		if _, err := recording.NewTone(c[0], int(c[1])); err == nil {
			t.Errorf("tone %v Hz %v ms plays", c[0], c[1])
		} else if st, ok := bridge.StatusOf(err); !ok || st.HTTP != 400 {
			t.Errorf("tone %v Hz %v ms: %v answers %d, want 400", c[0], c[1], err, st.HTTP)
		}
	}
}

// TestPlayReplySaysDurationSeconds: POST …/play answers how long the sound lasts as
// duration_seconds, the one spelling of durations in events and replies, and still as
// duration_ms for the integrators that read it; the player it joins is not announced.
func TestPlayReplySaysDurationSeconds(t *testing.T) {
	d, base := inProcess(t, "tok", config.HTTPSecurity{})
	joinSilent(t, d, "standup", "Ada")
	sub := d.bridge.Bus().Subscribe("standup", 16, "")
	defer sub.Close()
	code, raw := apiCall(t, "POST", base+"/api/rooms/standup/play", "tok", `{"tone":{"hz":440,"ms":250}}`)
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil || code != http.StatusAccepted {
		t.Fatalf("play: %d %v %v", code, got, err)
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
