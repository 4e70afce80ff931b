package sipws

import (
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/internal/config"
	"confd/internal/sipdigest"
)

// authenticator is config.Security for SIP over WebSocket: digest credentials of the listed
// users (confd/internal/sipdigest) and the trusted trunk addresses.
type authenticator struct {
	digest *sipdigest.Authenticator
	users  int
	trunks []netip.Prefix
}

func newAuthenticator(sec config.Security, realm string, now func() time.Time) *authenticator {
	return &authenticator{digest: sipdigest.New(realm, sec.Users, now, sec.DigestAlgorithms...), users: len(sec.Users), trunks: sec.TrunkPrefixes()}
}

// hasUsers reports whether REGISTER is digest-checked.
func (a *authenticator) hasUsers() bool { return a.users > 0 }

// trunk reports whether remote (host:port) is one of the trusted trunk addresses.
func (a *authenticator) trunk(remote string) bool { return config.IsTrunk(a.trunks, remote) }

// check verifies the Authorization header of req (RFC 3261 section 22.4; its uri must be the
// Request-URI, its nonce count new). When it fails, the returned headers are the
// WWW-Authenticate headers of the 401 to answer (SHA-256 and MD5, RFC 8760), stale when only
// the nonce had expired (RFC 2617 section 3.2.1).
func (a *authenticator) check(req *sip.Request) (challenges []sip.Header, ok bool) {
	value := ""
	if h := req.GetHeader("Authorization"); h != nil {
		value = h.Value()
	}
	_, err := a.digest.Check(value, req.Method.String(), req.Recipient.String())
	if err == nil {
		return nil, true
	}
	return a.digest.ChallengeHeaders(req, err), false
}
