package sipws

import (
	"testing"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/sipdigest"
	"confd/sipua"
)

// TestCapturedDigestOpensNoOtherRoom is issue 8 item 12 over WebSocket: an Authorization that
// got one INVITE in, sent again with new Call-IDs to other rooms or to the same one, gets 401
// each time, with SHA-256 and MD5 challenges.
func TestCapturedDigestOpensNoOtherRoom(t *testing.T) {
	sec := sipua.AuthConfig{Restrict: true, Users: []sipdigest.User{{Name: "ada", Password: "pw"}}}
	e := newFakeEnv(t, bridge.Config{}, Config{Auth: sec})
	c := dialSIP(t, e.url)
	res := c.expectStatus(newDialog("sip:room1@confd").invite(fakeOffer, ""), sip.INVITE, 401)
	if hs := res.GetHeaders("WWW-Authenticate"); len(hs) != 2 {
		t.Fatalf("challenges %v: want SHA-256 and MD5", hs)
	}
	captured := authorize(t, res, "INVITE", "sip:room1@confd", "ada", "pw")
	d := newDialog("sip:room1@confd")
	d.answered(c.expectStatus(d.invite(fakeOffer, captured), sip.INVITE, 200))
	c.send(d.req("ACK", "", ""))
	for _, ruri := range []string{"sip:room2@confd", "sip:room3@confd", "sip:room1@confd"} {
		c.expectStatus(newDialog(ruri).invite(fakeOffer, captured), sip.INVITE, 401)
	}
}
