package api

import (
	"encoding/json"
	"testing"

	"confd/bridge"
)

// TestPanRoutes: PATCH {"pan":…} places a participant and shows in its state; a matrix entry
// carries a pan beside its gain and reads it back; a pan outside -1 to 1 is a 400 that changes
// nothing.
func TestPanRoutes(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	a, bb := parts[0].ID(), parts[1].ID()
	if code, m, _ := call(t, h, "PATCH", "/api/rooms/r/participants/"+a, "application/json", `{"pan":-0.5}`); code != 200 || m["pan"] != -0.5 {
		t.Errorf("pan PATCH: %d %v", code, m)
	}
	if code, m, _ := call(t, h, "PATCH", "/api/rooms/r/participants/"+a, "application/json", `{"pan":1.5,"muted":true}`); code != 400 || m["error"] == nil {
		t.Errorf("pan 1.5: %d %v, want 400", code, m)
	}
	st, _ := b.RoomState("r")
	for _, p := range st.Participants {
		if p.ID == a && (p.Pan != -0.5 || p.Muted) {
			t.Errorf("after a refused PATCH: %+v", p)
		}
	}
	if code, _, body := call(t, h, "PUT", "/api/rooms/r/matrix", "application/json", `[{"listener":"`+bb+`","speaker":"`+a+`","gain":1,"pan":0.75}]`); code != 200 {
		t.Errorf("matrix PUT: %d %s", code, body)
	}
	var gains []bridge.Gain
	_, _, body := call(t, h, "GET", "/api/rooms/r/matrix", "", "")
	_ = json.Unmarshal([]byte(body), &gains)
	if len(gains) != 1 || gains[0].Pan == nil || *gains[0].Pan != 0.75 || gains[0].Gain != 1 {
		t.Errorf("matrix GET: %s", body)
	}
	if code, _, _ := call(t, h, "PUT", "/api/rooms/r/matrix", "application/json", `[{"listener":"`+bb+`","speaker":"`+a+`","gain":1,"pan":-3}]`); code != 400 {
		t.Errorf("matrix pan -3: %d, want 400", code)
	}
}
