package sipdigest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

const roomURI = "sip:room@confd.example"

// answer computes what a SIP client sends back for challenge: a request of method to uri, the
// nc-th with that nonce.
func answer(t *testing.T, challenge, method, uri, user, password string, nc int) string {
	t.Helper()
	chal, err := digest.ParseChallenge(challenge)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: user, Password: password, Count: nc})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

func TestChallengesOfferSHA256ThenMD5AndAcceptBoth(t *testing.T) {
	a := New("", []User{{Name: "ada", Password: "pw"}}, nil)
	if a.Realm() != "confd" {
		t.Errorf("realm %q", a.Realm())
	}
	chals := a.Challenges(false)
	if len(chals) != 2 {
		t.Fatalf("%d challenges", len(chals))
	}
	for i, want := range []string{"SHA-256", "MD5"} {
		chals := a.Challenges(false) // the two share one nonce: a client answers one of them
		c, err := digest.ParseChallenge(chals[i])
		if err != nil || c.Algorithm != want || !c.SupportsQOP("auth") || c.Stale {
			t.Fatalf("challenge %d %q: want %s with qop=auth (%v)", i, chals[i], want, err)
		}
		if user, err := a.Check(answer(t, chals[i], "INVITE", roomURI, "ada", "pw", 1), "INVITE", roomURI); err != nil || user != "ada" {
			t.Errorf("%s answer: %q, %v", want, user, err)
		}
	}
}

// TestCapturedAuthorizationIsWorthlessElsewhere is issue 8 item 12 at the source: a captured
// Authorization sent again (to the same room or another) is refused, as is one whose uri is not
// the Request-URI or that left out qop; a fresh count on the same nonce is fine.
func TestCapturedAuthorizationIsWorthlessElsewhere(t *testing.T) {
	a := New("", []User{{Name: "ada", Password: "pw"}}, nil)
	chal := a.Challenges(false)[0]
	captured := answer(t, chal, "INVITE", roomURI, "ada", "pw", 1)
	if _, err := a.Check(captured, "INVITE", roomURI); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := a.Check(captured, "INVITE", roomURI); !errors.Is(err, ErrReplayed) {
		t.Errorf("replayed to the same room: %v, want ErrReplayed", err)
	}
	if _, err := a.Check(captured, "INVITE", "sip:other@confd.example"); !errors.Is(err, ErrRejected) {
		t.Errorf("replayed to another room: %v, want ErrRejected", err)
	}
	// The same uri with parameters the client left out of the digest (sipgo does) is the same
	// Request-URI; another user part is not.
	if _, err := a.Check(answer(t, chal, "INVITE", roomURI, "ada", "pw", 2), "INVITE", roomURI+";transport=tcp"); err != nil {
		t.Errorf("next count, Request-URI with parameters: %v", err)
	}
	if _, err := a.Check(answer(t, chal, "INVITE", roomURI, "ada", "pw", 3), "INVITE", "sip:other@confd.example"); !errors.Is(err, ErrRejected) {
		t.Errorf("uri of another room: %v, want ErrRejected", err)
	}
	if _, err := a.Check(answer(t, chal, "INVITE", roomURI, "ada", "pw", 2), "INVITE", roomURI); !errors.Is(err, ErrReplayed) {
		t.Errorf("a count lower than the last: %v, want ErrReplayed", err)
	}
	noQOP := `Digest realm="confd", nonce="` + mustNonce(t, chal) + `", algorithm=MD5`
	if _, err := a.Check(answer(t, noQOP, "INVITE", roomURI, "ada", "pw", 0), "INVITE", roomURI); !errors.Is(err, ErrRejected) {
		t.Errorf("no qop: %v, want ErrRejected", err)
	}
}

func mustNonce(t *testing.T, challenge string) string {
	c, err := digest.ParseChallenge(challenge)
	if err != nil {
		t.Fatal(err)
	}
	return c.Nonce
}

func TestCheck(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := New("", []User{{Name: "ada", Password: "pw"}}, func() time.Time { return now })
	chal := a.Challenges(false)[1]
	cases := []struct {
		name, auth, method string
		want               error
	}{
		{"none", "", "REGISTER", ErrNoCredentials},
		{"basic", "Basic YWRhOnB3", "REGISTER", ErrNoCredentials},
		{"wrong password", answer(t, chal, "REGISTER", roomURI, "ada", "nope", 1), "REGISTER", ErrRejected},
		{"unknown user", answer(t, chal, "REGISTER", roomURI, "bob", "pw", 1), "REGISTER", ErrRejected},
		{"other method", answer(t, chal, "REGISTER", roomURI, "ada", "pw", 1), "INVITE", ErrRejected},
		{"foreign nonce", answer(t, `Digest realm="confd", nonce="1.ab.abc", algorithm=MD5, qop="auth"`, "REGISTER", roomURI, "ada", "pw", 1), "REGISTER", ErrRejected},
		{"other realm", answer(t, `Digest realm="elsewhere", nonce="x", algorithm=MD5, qop="auth"`, "REGISTER", roomURI, "ada", "pw", 1), "REGISTER", ErrRejected},
		{"other algorithm", answer(t, `Digest realm="confd", nonce="`+mustNonce(t, chal)+`", algorithm=SHA-512, qop="auth"`, "REGISTER", roomURI, "ada", "pw", 1), "REGISTER", ErrRejected},
		{"garbage", "Digest ,,,===", "REGISTER", ErrRejected},
	}
	for _, tc := range cases {
		if _, err := a.Check(tc.auth, tc.method, roomURI); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Six minutes later a right answer is stale, and the new challenges say so.
	old := answer(t, chal, "REGISTER", roomURI, "ada", "pw", 1)
	now = now.Add(NonceLifetime + time.Minute)
	if _, err := a.Check(old, "REGISTER", roomURI); !errors.Is(err, ErrStale) {
		t.Errorf("old nonce: %v, want ErrStale", err)
	}
	for _, c := range a.Challenges(true) {
		if p, _ := digest.ParseChallenge(c); p == nil || !p.Stale {
			t.Errorf("stale challenge %q", c)
		}
	}
	// Another process's nonces are not ours.
	if _, err := New("", a.users, nil).Check(old, "REGISTER", roomURI); !errors.Is(err, ErrRejected) {
		t.Errorf("another authenticator's nonce: %v", err)
	}
}

func TestMD5AloneWhenAsked(t *testing.T) {
	a := New("", []User{{Name: "ada", Password: "pw"}}, nil, "md5", "rot13")
	chals := a.Challenges(false)
	if len(chals) != 1 {
		t.Fatalf("challenges %q: want MD5 alone", chals)
	}
	sha := `Digest realm="confd", nonce="` + mustNonce(t, chals[0]) + `", algorithm=SHA-256, qop="auth"`
	if _, err := a.Check(answer(t, sha, "INVITE", roomURI, "ada", "pw", 1), "INVITE", roomURI); !errors.Is(err, ErrRejected) {
		t.Errorf("SHA-256 answer when only MD5 is offered: %v, want ErrRejected", err)
	}
	if _, err := a.Check(answer(t, chals[0], "INVITE", roomURI, "ada", "pw", 2), "INVITE", roomURI); err != nil {
		t.Errorf("MD5 answer: %v", err)
	}
}

// TestMD5OnlyAgentsGetMD5Alone: stacks that give up on any SHA-256 challenge (baresip, SIP.js)
// are challenged with MD5 alone under the default algorithms; everyone else gets SHA-256 first.
func TestMD5OnlyAgentsGetMD5Alone(t *testing.T) {
	a := New("", nil, nil)
	for ua, want := range map[string][]string{
		"baresip v1.0.0 (x86_64/linux)": {"MD5"},
		"SIP.js/0.21.2":                 {"MD5"},
		"Linphone/5.2":                  {"SHA-256", "MD5"},
		"":                              {"SHA-256", "MD5"},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "room", Host: "confd.example"})
		if ua != "" {
			req.AppendHeader(sip.NewHeader("User-Agent", ua))
		}
		var got []string
		for _, h := range a.ChallengeHeaders(req, ErrNoCredentials) {
			c, err := digest.ParseChallenge(h.Value())
			if err != nil || h.Name() != "WWW-Authenticate" {
				t.Fatalf("%s: header %v (%v)", h.Name(), h.Value(), err)
			}
			got = append(got, c.Algorithm)
		}
		if !slices.Equal(got, want) {
			t.Errorf("User-Agent %q challenged with %v, want %v", ua, got, want)
		}
	}
}
