package sipleg

import (
	"errors"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"confd/internal/config"
	"confd/internal/sipdigest"
)

// authenticator decides whether an INVITE may call in (config.Security): open by default;
// with Restrict, only from a listed trunk address or with digest credentials of a listed
// user (RFC 3261 section 22.2), challenged by 401. The digest itself is sipdigest's, shared
// with SIP over WebSocket.
type authenticator struct {
	restrict bool
	trunks   []netip.Prefix
	digest   *sipdigest.Authenticator
}

func newAuthenticator(sec config.Security) *authenticator {
	return &authenticator{
		restrict: sec.Restrict,
		trunks:   sec.TrunkPrefixes(),
		digest:   sipdigest.New(sec.Realm, sec.Users, nil),
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
	_, err := a.digest.Check(cred, req.Method.String())
	if err == nil {
		return true
	}
	respond(tx, req, 401, "Unauthorized", sip.NewHeader("WWW-Authenticate", a.digest.Challenge(errors.Is(err, sipdigest.ErrStale))))
	return false
}
