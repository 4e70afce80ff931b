package sipdigest

import (
	"errors"
	"testing"
	"time"

	"github.com/icholy/digest"

	"confd/internal/config"
)

// answer computes what a SIP client sends back for challenge.
func answer(t *testing.T, challenge, method, user, password string) string {
	t.Helper()
	chal, err := digest.ParseChallenge(challenge)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: method, URI: "sip:room@confd", Username: user, Password: password, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cred.String()
}

func TestCheck(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	a := New("", []config.User{{User: "ada", Password: "pw"}}, func() time.Time { return now })
	if a.Realm() != "confd" {
		t.Errorf("realm %q", a.Realm())
	}
	chal := a.Challenge(false)
	if user, err := a.Check(answer(t, chal, "REGISTER", "ada", "pw"), "REGISTER"); err != nil || user != "ada" {
		t.Fatalf("right credentials: %q, %v", user, err)
	}
	cases := []struct {
		name, auth, method string
		want               error
	}{
		{"none", "", "REGISTER", ErrNoCredentials},
		{"basic", "Basic YWRhOnB3", "REGISTER", ErrNoCredentials},
		{"wrong password", answer(t, chal, "REGISTER", "ada", "nope"), "REGISTER", ErrRejected},
		{"unknown user", answer(t, chal, "REGISTER", "bob", "pw"), "REGISTER", ErrRejected},
		{"other method", answer(t, chal, "REGISTER", "ada", "pw"), "INVITE", ErrRejected},
		{"foreign nonce", answer(t, `Digest realm="confd", nonce="1.abc", algorithm=MD5, qop="auth"`, "REGISTER", "ada", "pw"), "REGISTER", ErrRejected},
		{"other realm", answer(t, `Digest realm="elsewhere", nonce="x", algorithm=MD5`, "REGISTER", "ada", "pw"), "REGISTER", ErrRejected},
		{"garbage", "Digest ,,,===", "REGISTER", ErrRejected},
	}
	for _, tc := range cases {
		if _, err := a.Check(tc.auth, tc.method); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Six minutes later the same answer is stale, and the new challenge says so.
	old := answer(t, chal, "REGISTER", "ada", "pw")
	now = now.Add(NonceLifetime + time.Minute)
	if _, err := a.Check(old, "REGISTER"); !errors.Is(err, ErrStale) {
		t.Errorf("old nonce: %v, want ErrStale", err)
	}
	if c, _ := digest.ParseChallenge(a.Challenge(true)); c == nil || !c.Stale {
		t.Errorf("stale challenge %q", a.Challenge(true))
	}
	// Another process's nonces are not ours.
	if _, err := New("", a.users, nil).Check(old, "REGISTER"); !errors.Is(err, ErrRejected) {
		t.Errorf("another authenticator's nonce: %v", err)
	}
}
