package phones

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/testkit/baresip"
)

// transferEvent reports whether e is a transfer event of participant id in state.
func transferEvent(e bridge.Event, id, state string) bool {
	return e.Type == bridge.EventTransfer && e.Participant == id && e.Data["state"] == state
}

// TestTransferHandsABaresipPhoneToAnother is issue 13's transfer out of the conference with a
// real phone: baresip Cy, in a room with Ada, is sent REFER (RFC 3515). First towards a user
// the target phone does not have: the target refuses, Cy's NOTIFY says so (message/sipfrag),
// the transfer event reports "failed" and Cy stays in the room, still heard by Ada. Then towards
// the target's user: the target phone receives Cy's call, Cy's NOTIFY reports 200, confd ends
// Cy's call with a BYE and Cy leaves the room as "transferred" while Ada stays. A URI that is
// not sip: is refused (400), and so is a WebRTC participant (409: not a SIP call).
func TestTransferHandsABaresipPhoneToAnother(t *testing.T) {
	t.Parallel()
	baresip.Require(t)
	d := startConfd(t, "")
	events := d.subscribe("xfer")
	ada := d.call("xfer", "Ada", toneAda, codec.PCMU)
	desk := baresip.Start(t, baresip.Config{User: "desk", Codec: baresip.PCMU, ToneHz: toneDee, ToneAmplitude: 0.15, AutoAnswer: true})
	cy := d.baresipCall("xfer", "Cy", toneCy)
	web := joinWHIP(t, d.base, "xfer", "Web", toneEve)
	defer web.Close()
	ids := d.waitTalking("xfer", "Ada", "Cy", "Web")
	path := "/api/rooms/xfer/participants/" + ids[1] + "/transfer"

	d.refused(http.StatusBadRequest, "POST", path, map[string]string{"uri": "tel:+15550100"})
	d.refused(http.StatusConflict, "POST", "/api/rooms/xfer/participants/"+ids[2]+"/transfer", map[string]string{"uri": "sip:desk@127.0.0.1"})
	d.refused(http.StatusNotFound, "POST", "/api/rooms/xfer/participants/nobody/transfer", map[string]string{"uri": "sip:desk@127.0.0.1"})

	// A target that refuses: baresip answers 404 for a user it does not have.
	d.must(http.StatusAccepted, "POST", path, map[string]string{"uri": fmt.Sprintf("sip:nobody@127.0.0.1:%d", desk.SIPPort())})
	events.waitFor(t, "Cy's first transfer accepted", 10*time.Second, func(e bridge.Event) bool { return transferEvent(e, ids[1], "accepted") })
	events.waitFor(t, "Cy's first transfer failed", 15*time.Second, func(e bridge.Event) bool { return transferEvent(e, ids[1], "failed") })
	m := now()
	m.waitAfter(t, ada)
	expectHeard(t, ada, m, toneCy, "a failed transfer (Cy still in the room)")
	if _, there := participant(d.state("xfer"), ids[1]); !there {
		t.Fatal("Cy left the room after a failed transfer")
	}

	// The target's own user: the target receives the call, Cy leaves as transferred.
	target := fmt.Sprintf("sip:desk@127.0.0.1:%d", desk.SIPPort())
	d.must(http.StatusAccepted, "POST", path, map[string]string{"uri": target})
	ev, err := desk.WaitEstablished(15 * time.Second)
	if err != nil {
		t.Fatalf("the transfer target received no call: %v\n%s", err, cy.Log())
	}
	t.Logf("%s: call from %s established", desk, ev.Param)
	events.waitFor(t, "Cy's transfer succeeded", 10*time.Second, func(e bridge.Event) bool { return transferEvent(e, ids[1], "succeeded") })
	events.waitFor(t, "Cy's leave as transferred", 10*time.Second, func(e bridge.Event) bool {
		return e.Type == bridge.EventLeave && e.Participant == ids[1] && e.Data["reason"] == "transferred"
	})
	d.waitGone("xfer", ids[1])
	if _, there := participant(d.state("xfer"), ids[0]); !there {
		t.Error("Ada left the room with Cy's transfer")
	}
	got, _ := events.snapshot()
	var states []any
	for _, e := range got {
		if e.Type == bridge.EventTransfer {
			states = append(states, e.Data["state"], e.Data["status"])
		}
	}
	t.Logf("transfer events: %v", states)
}
