package sipua

import (
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"

	"confd/internal/guard"
	"confd/sipdigest"
)

// AuthConfig says who may call in and register. The zero value is open to everyone.
type AuthConfig struct {
	// Restrict, when true, accepts a new call only from Trunks or with digest credentials of
	// one of Users (RFC 3261 section 22).
	Restrict bool
	// Trunks are the trusted addresses, exempt from credentials.
	Trunks []netip.Prefix
	// Users are the digest accounts.
	Users []sipdigest.User
	// Realm is the digest realm. Empty means "confd".
	Realm string
	// Algorithms are the digest algorithms challenged with, in order, and accepted ("SHA-256",
	// "MD5"). Empty means sipdigest.Algorithms.
	Algorithms []string
}

// Auth is AuthConfig at work: the trunk test and the digest check of a request, whose
// arithmetic and nonce bookkeeping are confd/sipdigest's (the uri must be the
// Request-URI and a nonce's count must grow, so a captured Authorization opens no other room
// and no second call). It is safe for concurrent use.
type Auth struct {
	cfg    AuthConfig
	digest *sipdigest.Authenticator
}

// NewAuth returns the Auth of cfg; now is the clock of its nonces (nil means time.Now).
func NewAuth(cfg AuthConfig, now func() time.Time) *Auth {
	return &Auth{cfg: cfg, digest: sipdigest.New(cfg.Realm, cfg.Users, now, cfg.Algorithms...)}
}

// HasUsers reports whether there are digest accounts to check a REGISTER against.
func (a *Auth) HasUsers() bool { return len(a.cfg.Users) > 0 }

// Trunk reports whether remote ("host:port" or "host") is one of the trusted trunk addresses.
func (a *Auth) Trunk(remote string) bool {
	addr, ok := guard.AddrOf(remote)
	return ok && a.TrunkAddr(addr)
}

// TrunkAddr reports whether addr is within one of the trusted trunk prefixes.
func (a *Auth) TrunkAddr(addr netip.Addr) bool { return guard.InPrefixes(a.cfg.Trunks, addr) }

// AttemptKey is who a PIN try from remote ("host:port") is counted against (guard.Attempts):
// the source, and for a trunk also the caller (fromUser, the From user part), so that one
// caller behind a trunk cannot lock out everyone else on it.
func (a *Auth) AttemptKey(remote, fromUser string) string {
	if a.Trunk(remote) {
		return guard.CallerKey(guard.SourceOf(remote), fromUser)
	}
	return guard.SourceOf(remote).String()
}

// Check verifies the Authorization header of req (RFC 3261 section 22.4). When it fails, the
// Refusal is the 401 to answer, with a WWW-Authenticate challenge per algorithm (SHA-256 and
// MD5, RFC 8760), stale when only the nonce had expired (RFC 2617 section 3.2.1).
func (a *Auth) Check(req *sip.Request) *Refusal {
	value := ""
	if h := req.GetHeader("Authorization"); h != nil {
		value = h.Value()
	}
	_, err := a.digest.Check(value, req.Method.String(), req.Recipient.String())
	if err == nil {
		return nil
	}
	return &Refusal{Status: 401, Reason: "Unauthorized", Headers: a.digest.ChallengeHeaders(req, err)}
}

// Authorize decides whether req, from remote, may start a call: always when not restricted
// or from a trunk; with Restrict and no users, 403 (no credentials could help); else the digest
// check (Check: 401 with a challenge).
func (a *Auth) Authorize(req *sip.Request, remote string) *Refusal {
	if !a.cfg.Restrict || a.Trunk(remote) {
		return nil
	}
	if !a.HasUsers() {
		return &Refusal{Status: 403, Reason: "Forbidden (not a trusted address)"}
	}
	return a.Check(req)
}
