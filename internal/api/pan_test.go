package api

import (
	"encoding/json"
	"strings"
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

// TestPanAndGainEdges (red team, issue 13): what JSON can say of a pan or a gain beyond -1…1
// and 0…4 — a hair outside, an exponent that overflows float32 to Inf, a denormal, a string
// "NaN", null — is a 400 that changes nothing, or (null, -0, denormals) a value in range;
// never a NaN or an Inf in the mix.
func TestPanAndGainEdges(t *testing.T) {
	b, h, parts, _ := setup(t, testToken)
	a, bb := parts[0].ID(), parts[1].ID()
	for _, pan := range []string{"1.0000001", "-1.0000001", "1e39", "-1e39", "1e400", `"NaN"`, `"Infinity"`, "NaN", "Infinity", "0x1p0", "[0]", "{}"} {
		if code, _, body := call(t, h, "PATCH", "/api/rooms/r/participants/"+a, "application/json", `{"pan":`+pan+`}`); code != 400 {
			t.Errorf("pan %s: %d %s, want 400", pan, code, body)
		}
		for _, field := range []string{`"pan":` + pan, `"gain":` + pan} {
			entry := `[{"listener":"` + bb + `","speaker":"` + a + `","gain":1,` + field + `}]`
			if strings.HasPrefix(field, `"gain"`) {
				if pan == "1.0000001" {
					continue // a gain in 0-4
				}
				entry = `[{"listener":"` + bb + `","speaker":"` + a + `",` + field + `}]`
			}
			if code, _, body := call(t, h, "PUT", "/api/rooms/r/matrix", "application/json", entry); code != 400 {
				t.Errorf("matrix %s: %d %s, want 400", field, code, body)
			}
		}
	}
	for _, gain := range []string{"4.0000005", "-0.0000001", "5", "1e39"} {
		entry := `[{"listener":"` + bb + `","speaker":"` + a + `","gain":` + gain + `}]`
		if code, _, body := call(t, h, "PUT", "/api/rooms/r/matrix", "application/json", entry); code != 400 {
			t.Errorf("gain %s: %d %s, want 400", gain, code, body)
		}
	}
	for _, pan := range []string{"null", "-0", "1e-45", "1", "-1"} {
		if code, _, body := call(t, h, "PATCH", "/api/rooms/r/participants/"+a, "application/json", `{"pan":`+pan+`}`); code != 200 {
			t.Errorf("pan %s: %d %s, want 200", pan, code, body)
		}
	}
	st, _ := b.RoomState("r")
	for _, p := range st.Participants {
		if p.Pan < -1 || p.Pan > 1 || p.Pan != p.Pan {
			t.Errorf("%s has pan %v", p.ID, p.Pan)
		}
	}
	if m, _ := b.Room("r"); m != nil {
		if gains := m.Matrix(); len(gains) != 0 {
			t.Errorf("refused matrices left %+v", gains)
		}
	}
}
