package sipleg

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

// nonceLifetime is how long a digest nonce confd issued is accepted.
const nonceLifetime = 5 * time.Minute

// authenticator decides whether an INVITE may call in (config.Security): open by default;
// with Restrict, only from a listed trunk address or with digest credentials of a listed
// user (RFC 3261 section 22.2, RFC 2617 with MD5), challenged by 401.
type authenticator struct {
	sec    config.Security
	trunks []netip.Prefix
	secret [32]byte
	realm  string
}

func newAuthenticator(sec config.Security) *authenticator {
	a := &authenticator{sec: sec, realm: sec.Realm}
	if a.realm == "" {
		a.realm = "confd"
	}
	_, _ = rand.Read(a.secret[:])
	for _, t := range sec.Trunks {
		if p, err := netip.ParsePrefix(t); err == nil {
			a.trunks = append(a.trunks, p.Masked())
		} else if ad, err := netip.ParseAddr(t); err == nil {
			a.trunks = append(a.trunks, netip.PrefixFrom(ad.Unmap(), ad.Unmap().BitLen()))
		}
	}
	return a
}

// check reports whether req may go on; if not it has answered it (401 with a challenge).
func (a *authenticator) check(req *sip.Request, tx sip.ServerTransaction) bool {
	if !a.sec.Restrict {
		return true
	}
	if src, err := netip.ParseAddrPort(req.Source()); err == nil {
		for _, p := range a.trunks {
			if p.Contains(src.Addr().Unmap()) {
				return true
			}
		}
	}
	if h := req.GetHeader("Authorization"); h != nil && a.verify(h.Value(), req.Method.String()) {
		return true
	}
	chal := &digest.Challenge{Realm: a.realm, Nonce: a.nonce(time.Now()), Algorithm: "MD5", QOP: []string{"auth"}}
	respond(tx, req, 401, "Unauthorized", sip.NewHeader("WWW-Authenticate", chal.String()))
	return false
}

// nonce is a timestamp signed with the server's secret, so no nonce table is kept.
func (a *authenticator) nonce(now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 16)
	m := hmac.New(sha256.New, a.secret[:])
	m.Write([]byte(ts))
	return ts + "." + hex.EncodeToString(m.Sum(nil)[:12])
}

func (a *authenticator) nonceValid(n string, now time.Time) bool {
	ts, _, ok := strings.Cut(n, ".")
	sec, err := strconv.ParseInt(ts, 16, 64)
	if !ok || err != nil || now.Sub(time.Unix(sec, 0)) > nonceLifetime {
		return false
	}
	return hmac.Equal([]byte(n), []byte(a.nonce(time.Unix(sec, 0))))
}

func (a *authenticator) verify(header, method string) bool {
	cred, err := digest.ParseCredentials(header)
	if err != nil || cred.Realm != a.realm || !a.nonceValid(cred.Nonce, time.Now()) {
		return false
	}
	for _, u := range a.sec.Users {
		if u.User != cred.Username {
			continue
		}
		chal := &digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Opaque: cred.Opaque, Algorithm: cred.Algorithm}
		if cred.QOP != "" {
			chal.QOP = []string{cred.QOP}
		}
		want, err := digest.Digest(chal, digest.Options{Method: method, URI: cred.URI, Username: u.User,
			Password: u.Password, Cnonce: cred.Cnonce, Count: cred.Nc})
		return err == nil && hmac.Equal([]byte(want.Response), []byte(cred.Response))
	}
	return false
}
