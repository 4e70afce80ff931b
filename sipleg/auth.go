package sipleg

import (
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"confd/internal/config"
	"confd/internal/sipdigest"
)

// authenticator decides whether an INVITE may call in (config.Security): open by default;
// with Restrict, only from a listed trunk address or with digest credentials of a listed
// user (RFC 3261 section 22.2), challenged by 401 with SHA-256 and MD5 (RFC 8760). The digest
// itself is sipdigest's, shared with SIP over WebSocket: its uri must be the Request-URI and
// its nonce count must grow, so a captured Authorization opens no other room and no second
// call.
//
// It also holds the dial-out half of config.Security (dialOut), so that one place reads it.
type authenticator struct {
	restrict bool
	trunks   []netip.Prefix
	digest   *sipdigest.Authenticator
	dialOut  *dialPolicy
}

func newAuthenticator(sec config.Security) *authenticator {
	return &authenticator{
		restrict: sec.Restrict,
		trunks:   sec.TrunkPrefixes(),
		digest:   sipdigest.New(sec.Realm, sec.Users, nil, sec.DigestAlgorithms...),
		dialOut:  newDialPolicy(sec.DialOut),
	}
}

// check reports whether req may go on; if not it has answered it (401 with a challenge).
func (a *authenticator) check(req *sip.Request, tx sip.ServerTransaction) bool {
	if !a.restrict || config.IsTrunk(a.trunks, req.Source()) {
		return true
	}
	var cred string
	if h := req.GetHeader("Authorization"); h != nil {
		cred = h.Value()
	}
	_, err := a.digest.Check(cred, req.Method.String(), req.Recipient.String())
	if err == nil {
		return true
	}
	respond(tx, req, 401, "Unauthorized", a.digest.ChallengeHeaders(req, err)...)
	return false
}
