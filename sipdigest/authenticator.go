package sipdigest

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// NonceLifetime is how long a nonce is accepted after it was issued.
const NonceLifetime = 5 * time.Minute

// MaxNonces bounds the table of nonce counts: how many nonces, each used by a client that gave
// the right password, can be live (younger than NonceLifetime) at once. Past it a new nonce's
// first use is answered stale, so the client asks again, rather than a count being forgotten.
const MaxNonces = 65536

// Algorithms are the digest algorithms offered and accepted by default, in the order of the
// challenges: SHA-256 first, then MD5 for the clients that know only it (RFC 8760 section 2.4,
// RFC 7616 section 3.7). New may be given others.
var Algorithms = []string{"SHA-256", "MD5"}

// MD5OnlyAgents are User-Agent words of SIP stacks that know only MD5 and, against RFC 8760
// section 2.5, give up on a response that carries any challenge of another algorithm instead
// of answering the MD5 one: baresip 1.0 and its libre ("Function not implemented"), SIP.js and
// JsSIP ("authentication aborted"). With the default algorithms they are challenged with MD5
// alone. This gives nothing away: MD5 is offered to everyone beside SHA-256 anyway.
var MD5OnlyAgents = []string{"baresip", "libre", "sip.js", "jssip"}

// User is a digest account: a user name and its password.
type User struct {
	Name, Password string
}

// Authenticator issues digest challenges for one realm and checks the credentials that answer
// them. It is safe for concurrent use.
type Authenticator struct {
	realm string
	users []User
	now   func() time.Time
	key   [32]byte
	algs  []string // offered, in order, and accepted
	auto  bool     // algs are the defaults: MD5OnlyAgents get MD5 alone

	mu     sync.Mutex
	counts map[string]nonceUse // by nonce: the highest nonce count accepted
}

type nonceUse struct {
	issued time.Time
	nc     int
}

// New returns an Authenticator for realm ("" means "confd") and users; now is its clock (nil
// means time.Now). algorithms are offered, in that order, and accepted: "SHA-256" and "MD5"
// (any case; others are left out: config.Validate names them). None means Algorithms. Some
// old user agents give up on a challenge of an algorithm they do not know rather than answer
// the next one (baresip 1.0.0 says "Function not implemented"): for them offer MD5 alone.
func New(realm string, users []User, now func() time.Time, algorithms ...string) *Authenticator {
	realm = cmp.Or(realm, "confd")
	if now == nil {
		now = time.Now
	}
	var algs []string
	for _, alg := range algorithms {
		if alg = strings.ToUpper(alg); slices.Contains(Algorithms, alg) && !slices.Contains(algs, alg) {
			algs = append(algs, alg)
		}
	}
	auto := len(algs) == 0
	if auto {
		algs = Algorithms
	}
	a := &Authenticator{realm: realm, users: users, now: now, algs: algs, auto: auto, counts: make(map[string]nonceUse)}
	_, _ = rand.Read(a.key[:])
	return a
}

// Realm returns the realm of the challenges.
func (a *Authenticator) Realm() string { return a.realm }

// Challenges returns the values of a 401's WWW-Authenticate headers (RFC 3261 section 22.1),
// one per algorithm offered (those given to New) in that order, over one fresh nonce: qop=auth, and
// stale=true when the client's nonce had expired (RFC 2617 section 3.2.1).
func (a *Authenticator) Challenges(stale bool) []string {
	nonce := a.nonce(a.now().Unix(), "")
	out := make([]string, 0, len(a.algs))
	for _, alg := range a.algs {
		c := digest.Challenge{Realm: a.realm, Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		out = append(out, c.String())
	}
	return out
}

// ChallengeHeaders returns the WWW-Authenticate headers of the 401 that answers req after Check
// failed with err: Challenges, stale when err is ErrStale; only the MD5 one for a User-Agent
// of MD5OnlyAgents when the algorithms are the defaults.
func (a *Authenticator) ChallengeHeaders(req *sip.Request, err error) []sip.Header {
	chals := a.Challenges(errors.Is(err, ErrStale))
	if a.auto && md5OnlyAgent(req) {
		chals = chals[len(chals)-1:] // MD5 is last
	}
	hdrs := make([]sip.Header, 0, len(chals))
	for _, c := range chals {
		hdrs = append(hdrs, sip.NewHeader("WWW-Authenticate", c))
	}
	return hdrs
}

func md5OnlyAgent(req *sip.Request) bool {
	h := req.GetHeader("User-Agent")
	if h == nil {
		return false
	}
	ua := strings.ToLower(h.Value())
	return slices.ContainsFunc(MD5OnlyAgents, func(w string) bool { return strings.Contains(ua, w) })
}

// nonce returns a nonce issued at unix: the time, a random part (a fresh one when salt is
// empty) and an HMAC of both with the per-process key, so that confd can tell its own nonces
// and their age without keeping a table of the ones it handed out.
func (a *Authenticator) nonce(unix int64, salt string) string {
	if salt == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		salt = hex.EncodeToString(b[:])
	}
	stamp := strconv.FormatInt(unix, 16) + "." + salt
	mac := hmac.New(sha256.New, a.key[:])
	mac.Write([]byte(stamp))
	return stamp + "." + hex.EncodeToString(mac.Sum(nil)[:12])
}

// Check verifies the value of an Authorization header for a request of method to requestURI
// and returns the user it names: ErrNoCredentials for an empty or non-digest value, ErrStale
// for an expired nonce of confd's, ErrReplayed for a nonce count already used, ErrRejected for
// anything else that is wrong: another realm or uri (RFC 2617 section 3.2.2.5: the uri must be
// the Request-URI), a nonce confd did not issue, no qop=auth, an algorithm not offered, an
// unknown user or a wrong response. Every error is answered with new challenges.
func (a *Authenticator) Check(authorization, method, requestURI string) (string, error) {
	if authorization == "" || !digest.IsDigest(authorization) {
		return "", ErrNoCredentials
	}
	cred, err := digest.ParseCredentials(authorization)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrRejected, err)
	}
	if cred.Realm != a.realm {
		return "", fmt.Errorf("%w: realm %q", ErrRejected, cred.Realm)
	}
	if !sameRequestURI(cred.URI, requestURI) {
		return "", fmt.Errorf("%w: uri %q is not the Request-URI %q", ErrRejected, cred.URI, requestURI)
	}
	// qop=auth puts the nonce count and the client's nonce into the response (RFC 2617
	// section 3.2.2.1): without it a captured answer could be replayed unchanged.
	if cred.QOP != "auth" || cred.Nc <= 0 || cred.Cnonce == "" {
		return "", fmt.Errorf("%w: qop=auth with nc and cnonce is required", ErrRejected)
	}
	alg := strings.ToUpper(cred.Algorithm)
	if alg == "" {
		alg = "MD5" // RFC 2617 section 3.2.1
	}
	if !slices.Contains(a.algs, alg) {
		return "", fmt.Errorf("%w: algorithm %q not offered", ErrRejected, cred.Algorithm)
	}
	parts := strings.Split(cred.Nonce, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("%w: a nonce confd did not issue", ErrRejected)
	}
	unix, err := strconv.ParseInt(parts[0], 16, 64)
	if err != nil || !hmac.Equal([]byte(cred.Nonce), []byte(a.nonce(unix, parts[1]))) {
		return "", fmt.Errorf("%w: a nonce confd did not issue", ErrRejected)
	}
	for _, u := range a.users {
		if u.Name != cred.Username {
			continue
		}
		chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Opaque: cred.Opaque, Algorithm: alg, QOP: []string{"auth"}}
		want, err := digest.Digest(chal, digest.Options{Method: method, URI: cred.URI, Username: u.Name,
			Password: u.Password, Cnonce: cred.Cnonce, Count: cred.Nc})
		if err != nil || !hmac.Equal([]byte(want.Response), []byte(cred.Response)) {
			return "", fmt.Errorf("%w: wrong response for %q", ErrRejected, u.Name)
		}
		// The response is right: only now does an old nonce make it stale, not wrong.
		issued := time.Unix(unix, 0)
		if a.now().Sub(issued) > NonceLifetime {
			return "", ErrStale
		}
		if err := a.count(cred.Nonce, issued, cred.Nc); err != nil {
			return "", err
		}
		return u.Name, nil
	}
	return "", fmt.Errorf("%w: unknown user %q", ErrRejected, cred.Username)
}

// count records nonce count nc for nonce: it must be higher than every count accepted for that
// nonce before (RFC 2617 section 3.2.2.1), so a captured Authorization cannot be sent again.
func (a *Authenticator) count(nonce string, issued time.Time, nc int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	use, seen := a.counts[nonce]
	if seen && nc <= use.nc {
		return fmt.Errorf("%w: nonce count %08x after %08x", ErrReplayed, nc, use.nc)
	}
	if !seen && len(a.counts) >= MaxNonces {
		now := a.now()
		for n, u := range a.counts {
			if now.Sub(u.issued) > NonceLifetime {
				delete(a.counts, n)
			}
		}
		if len(a.counts) >= MaxNonces {
			return ErrStale
		}
	}
	a.counts[nonce] = nonceUse{issued: issued, nc: nc}
	return nil
}

// sameRequestURI reports whether the digest's uri names the Request-URI: equal as text, or as
// SIP URIs in scheme, user, host (case-insensitively) and port. URI parameters are not compared:
// clients differ on whether they copy them (sipgo writes the address without them), and the
// room is in the user part.
func sameRequestURI(digestURI, requestURI string) bool {
	if digestURI == requestURI {
		return true
	}
	var d, r sip.Uri
	if sip.ParseUri(digestURI, &d) != nil || sip.ParseUri(requestURI, &r) != nil {
		return false
	}
	scheme := func(u *sip.Uri) string {
		if u.Scheme == "" {
			return "sip"
		}
		return strings.ToLower(u.Scheme)
	}
	return scheme(&d) == scheme(&r) && d.User == r.User && strings.EqualFold(d.Host, r.Host) && d.Port == r.Port
}
