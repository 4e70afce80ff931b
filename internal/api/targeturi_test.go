package api

import (
	"context"
	"fmt"
	"testing"

	"confd/bridge"
)

// TestTargetURIIsTheLegsToJudge: the API has no URI rule of its own for a dial-out or a
// transfer (the SIP leg's one parse decides, sip: and sips:): every URI reaches the leg, and
// the leg's refusal (a bridge.ErrBadSetting) is 400 through bridge.StatusOf.
func TestTargetURIIsTheLegsToJudge(t *testing.T) {
	b, h, _, _ := setup(t, testToken)
	var dialled []string
	h.cfg.Dialer = dialerFunc(func(_ context.Context, _, uri string) (string, error) {
		dialled = append(dialled, uri)
		if uri == "tel:+15551234" {
			return "", fmt.Errorf("sipleg: bad SIP URI (%w): %q", bridge.ErrBadSetting, uri)
		}
		return "d1", nil
	})
	for _, c := range []struct {
		uri  string
		want int
	}{{"sips:bob@192.0.2.1", 202}, {"tel:+15551234", 400}} {
		if code, got, _ := call(t, h, "POST", "/api/rooms/r/dial", "application/json", `{"uri":"`+c.uri+`"}`); code != c.want {
			t.Errorf("dial %s: %d %v, want %d", c.uri, code, got, c.want)
		}
	}
	if len(dialled) != 2 {
		t.Errorf("the dialer was asked %v, want both URIs", dialled)
	}
	leg := &askedLeg{}
	p, err := b.Join("r", bridge.ParticipantInfo{Name: "dee", Kind: "sip"}, leg)
	if err != nil {
		t.Fatal(err)
	}
	if code, got, _ := call(t, h, "POST", "/api/rooms/r/participants/"+p.ID()+"/transfer", "application/json", `{"uri":"tel:+15551234"}`); code != 400 {
		t.Errorf("transfer to tel: %d %v, want 400", code, got)
	}
	if len(leg.asked) != 1 || leg.asked[0] != "tel:+15551234" {
		t.Errorf("the leg was asked %v, want the tel: URI", leg.asked)
	}
}

// askedLeg records every transfer asked of it and refuses any, as a leg refuses a URI it
// cannot call.
type askedLeg struct {
	fakeLeg
	asked []string
}

func (l *askedLeg) Transfer(_ context.Context, target string) error {
	l.asked = append(l.asked, target)
	return fmt.Errorf("sipleg: bad SIP URI (%w): %q", bridge.ErrBadSetting, target)
}
