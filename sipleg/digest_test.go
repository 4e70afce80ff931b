package sipleg

import (
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"confd/sipdigest"
	"confd/sipua"
	"confd/testkit/baresip"
)

// restricted lets in only the digest user ada.
var restricted = sipua.AuthConfig{Restrict: true, Users: []sipdigest.User{{Name: "ada", Password: "pw"}}}

// challenges returns the parsed WWW-Authenticate challenges of a 401.
func challenges(t *testing.T, res *sip.Response) []*digest.Challenge {
	t.Helper()
	if res.StatusCode != 401 {
		t.Fatalf("answered %d %s, want 401", res.StatusCode, res.Reason)
	}
	var out []*digest.Challenge
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// authorization answers chal for an INVITE to uri, the nc-th use of its nonce.
func authorization(t *testing.T, chal *digest.Challenge, uri string, nc int) string {
	t.Helper()
	cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: uri, Username: "ada", Password: "pw", Count: nc})
	if err != nil {
		t.Fatal(err)
	}
	return "Authorization: " + cred.String() + "\r\n"
}

// TestCapturedDigestOpensNoOtherCall is issue 8 item 12 on SIP over UDP: with restrict = true,
// one captured Authorization replayed with new Call-IDs (to other rooms, or its own) is
// answered 401 each time, and so is an answer whose uri is not the Request-URI. SHA-256 is
// offered first and MD5 second, and a client may answer either.
func TestCapturedDigestOpensNoOtherCall(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Auth: restricted}, nil)
	c := newRawClient(t, "udp", ts)
	_, port := callerMedia(t)
	offer := sdpOffer(port, 1, pcmuAudio)
	chals := challenges(t, c.newDialog().request("INVITE", "secret", offer))
	if len(chals) != 2 || chals[0].Algorithm != "SHA-256" || chals[1].Algorithm != "MD5" {
		t.Fatalf("challenges %v: want SHA-256 then MD5", chals)
	}
	uri := func(room string) string { return "sip:" + room + "@" + c.srv.String() }

	for i, chal := range chals {
		d := c.newDialog()
		d.hdrs = authorization(t, chal, uri("secret"), 1+i) // the two share one nonce
		if res := d.request("INVITE", "secret", offer); res.StatusCode != 200 {
			t.Fatalf("%s answer: %d %s", chal.Algorithm, res.StatusCode, res.Reason)
		}
		d.hdrs = ""
		d.ack("")
		d.bye()
		waitParticipants(t, ts, "secret", 0)
	}
	captured := authorization(t, chals[1], uri("secret"), 3)
	d := c.newDialog()
	d.hdrs = captured
	if res := d.request("INVITE", "secret", offer); res.StatusCode != 200 {
		t.Fatalf("the captured call: %d %s", res.StatusCode, res.Reason)
	}
	d.hdrs = ""
	d.ack("")
	for _, room := range []string{"other", "board", "secret", "secret"} {
		r := c.newDialog() // a new Call-ID each time
		r.hdrs = captured
		if res := r.request("INVITE", room, offer); res.StatusCode != 401 {
			t.Errorf("captured Authorization replayed to %s: %d %s", room, res.StatusCode, res.Reason)
		}
	}
	changed := c.newDialog()
	changed.hdrs = authorization(t, chals[1], uri("other"), 4)
	if res := changed.request("INVITE", "secret", offer); res.StatusCode != 401 {
		t.Errorf("uri of another room: %d %s", res.StatusCode, res.Reason)
	}
	if n := participants(ts, "secret") + participants(ts, "other") + participants(ts, "board"); n != 1 {
		t.Errorf("%d participants, want the one call that was let in", n)
	}
	d.bye()
	waitIdle(t, ts)
}

// TestBaresipAnswersTheDigestChallenge: a real phone that knows only MD5 gets into a
// restricted confd with its credentials. baresip 1.0.0 gives up on a response with a SHA-256
// challenge in it ("Function not implemented") instead of answering the MD5 one, so with the
// default algorithms it is challenged with MD5 alone (sipdigest.MD5OnlyAgents), and so it is
// when the configuration offers MD5 alone.
func TestBaresipAnswersTheDigestChallenge(t *testing.T) {
	baresip.Require(t)
	t.Parallel()
	md5 := restricted
	md5.Algorithms = []string{"md5"}
	for name, sec := range map[string]sipua.AuthConfig{"default": restricted, "MD5": md5} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, Config{Auth: sec}, nil)
			p := baresip.Start(t, baresip.Config{User: "ada", AuthPass: "pw", ToneHz: 700})
			if err := p.Dial(ts.roomURI("secret")); err != nil {
				t.Fatal(err)
			}
			if _, err := p.WaitEstablished(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			waitParticipants(t, ts, "secret", 1)
			if err := p.Hangup(); err != nil {
				t.Fatal(err)
			}
			waitIdle(t, ts)
		})
	}
}
