package sipdigest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/icholy/digest"

	"confd/internal/config"
)

// NonceLifetime is how long a nonce is accepted after it was issued.
const NonceLifetime = 5 * time.Minute

// Authenticator issues digest challenges for one realm and checks the credentials that answer
// them. It is safe for concurrent use.
type Authenticator struct {
	realm string
	users []config.User
	now   func() time.Time
	key   [32]byte
}

// New returns an Authenticator for realm ("" means "confd") and users; now is its clock (nil
// means time.Now).
func New(realm string, users []config.User, now func() time.Time) *Authenticator {
	if realm == "" {
		realm = "confd"
	}
	if now == nil {
		now = time.Now
	}
	a := &Authenticator{realm: realm, users: users, now: now}
	_, _ = rand.Read(a.key[:])
	return a
}

// Realm returns the realm of the challenges.
func (a *Authenticator) Realm() string { return a.realm }

// Challenge returns the value of a 401's WWW-Authenticate header (RFC 3261 section 22.1):
// MD5, qop=auth, a fresh nonce, and stale=true when the client's nonce had expired.
func (a *Authenticator) Challenge(stale bool) string {
	c := digest.Challenge{Realm: a.realm, Nonce: a.nonce(a.now().Unix()), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	return c.String()
}

func (a *Authenticator) nonce(unix int64) string {
	stamp := strconv.FormatInt(unix, 16)
	mac := hmac.New(sha256.New, a.key[:])
	mac.Write([]byte(stamp))
	return stamp + "." + hex.EncodeToString(mac.Sum(nil)[:12])
}

// Check verifies the value of an Authorization header for a request of method and returns
// the user it names: ErrNoCredentials for an empty or non-digest value, ErrStale for an
// expired nonce of confd's, ErrRejected for anything else that is wrong.
func (a *Authenticator) Check(authorization, method string) (string, error) {
	if authorization == "" || !digest.IsDigest(authorization) {
		return "", ErrNoCredentials
	}
	cred, err := digest.ParseCredentials(authorization)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrRejected, err)
	}
	if cred.Realm != a.realm {
		return "", fmt.Errorf("%w: realm %q", ErrRejected, cred.Realm)
	}
	stamp, _, _ := strings.Cut(cred.Nonce, ".")
	unix, err := strconv.ParseInt(stamp, 16, 64)
	if err != nil || !hmac.Equal([]byte(cred.Nonce), []byte(a.nonce(unix))) {
		return "", fmt.Errorf("%w: a nonce confd did not issue", ErrRejected)
	}
	for _, u := range a.users {
		if u.User != cred.Username {
			continue
		}
		chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Opaque: cred.Opaque, Algorithm: cred.Algorithm}
		if cred.QOP != "" {
			chal.QOP = []string{cred.QOP}
		}
		want, err := digest.Digest(chal, digest.Options{Method: method, URI: cred.URI, Username: u.User,
			Password: u.Password, Cnonce: cred.Cnonce, Count: cred.Nc})
		if err != nil || !hmac.Equal([]byte(want.Response), []byte(cred.Response)) {
			return "", fmt.Errorf("%w: wrong response for %q", ErrRejected, u.User)
		}
		// The response is right: only now does an old nonce make it stale, not wrong.
		if a.now().Sub(time.Unix(unix, 0)) > NonceLifetime {
			return "", ErrStale
		}
		return u.User, nil
	}
	return "", fmt.Errorf("%w: unknown user %q", ErrRejected, cred.Username)
}
