package sipws

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"confd/internal/config"
)

// nonceLifetime is how long a nonce confd issued is accepted (a stale one is challenged again).
const nonceLifetime = 5 * time.Minute

// authenticator checks SIP digest credentials (RFC 3261 section 22.4, RFC 2617 with MD5 and
// qop=auth) against config.Security.Users. A nonce is a timestamp signed with a per-server
// secret, so that no table of issued nonces is kept for connections that never come back.
type authenticator struct {
	sec    config.Security
	realm  string
	now    func() time.Time
	key    [32]byte
	trunks []netip.Prefix
}

func newAuthenticator(sec config.Security, realm string, now func() time.Time) *authenticator {
	a := &authenticator{sec: sec, realm: realm, now: now}
	_, _ = rand.Read(a.key[:])
	for _, t := range sec.Trunks {
		if p, err := netip.ParsePrefix(t); err == nil {
			a.trunks = append(a.trunks, p.Masked())
		} else if ad, err := netip.ParseAddr(t); err == nil {
			a.trunks = append(a.trunks, netip.PrefixFrom(ad.Unmap(), ad.Unmap().BitLen()))
		}
	}
	return a
}

// hasUsers reports whether REGISTER is digest-checked.
func (a *authenticator) hasUsers() bool { return len(a.sec.Users) > 0 }

// trunk reports whether remote (host:port) is one of the trusted trunk addresses.
func (a *authenticator) trunk(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return false
	}
	for _, p := range a.trunks {
		if p.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// challenge is the WWW-Authenticate header of a 401 (RFC 3261 section 22.1).
func (a *authenticator) challenge() sip.Header {
	c := digest.Challenge{Realm: a.realm, Nonce: a.signedNonce(a.now().Unix()), Algorithm: "MD5", QOP: []string{"auth"}}
	return sip.NewHeader("WWW-Authenticate", c.String())
}

func (a *authenticator) signedNonce(unix int64) string {
	stamp := strconv.FormatInt(unix, 16)
	mac := hmac.New(sha256.New, a.key[:])
	mac.Write([]byte(stamp))
	return stamp + "." + hex.EncodeToString(mac.Sum(nil)[:12])
}

func (a *authenticator) freshNonce(n string) bool {
	stamp, _, _ := strings.Cut(n, ".")
	unix, err := strconv.ParseInt(stamp, 16, 64)
	if err != nil || a.now().Sub(time.Unix(unix, 0)) > nonceLifetime {
		return false
	}
	return hmac.Equal([]byte(n), []byte(a.signedNonce(unix)))
}

// check verifies the Authorization header of req and returns the user it names.
func (a *authenticator) check(req *sip.Request) (string, bool) {
	h := req.GetHeader("Authorization")
	if h == nil {
		return "", false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Realm != a.realm || !a.freshNonce(cred.Nonce) {
		return "", false
	}
	for _, u := range a.sec.Users {
		if u.User != cred.Username {
			continue
		}
		chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Opaque: cred.Opaque, Algorithm: cred.Algorithm}
		if cred.QOP != "" {
			chal.QOP = []string{cred.QOP}
		}
		want, err := digest.Digest(chal, digest.Options{Method: req.Method.String(), URI: cred.URI,
			Username: u.User, Password: u.Password, Cnonce: cred.Cnonce, Count: cred.Nc})
		if err == nil && hmac.Equal([]byte(want.Response), []byte(cred.Response)) {
			return u.User, true
		}
		return "", false
	}
	return "", false
}
