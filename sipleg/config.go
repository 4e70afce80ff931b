package sipleg

import (
	"cmp"
	"time"
)

// Limits bound what one source may cost the SIP listener on a public address (issue 8: INVITE
// floods, un-ACKed and held calls, idle TCP connections). Every zero value is the default
// named; trunks (Config.Auth.Trunks) are exempt from the per-source limits but count against
// MaxCalls. The daemon fills it from [security.sip].
type Limits struct {
	// InviteRate is how many new calls (INVITEs outside a dialog) one source may start per
	// second on average. Zero means 5.
	InviteRate float64
	// InviteBurst is how many it may start at once after a quiet spell. Zero means
	// 4×InviteRate, at least 10.
	InviteBurst int
	// RequestRate is how many requests outside a dialog (INVITE included, and in-dialog
	// requests that match no dialog) one source may send per second; beyond it they are
	// answered 503 statelessly, and beyond twice as many not at all. Zero means 20.
	RequestRate float64
	// CallsPerSource is how many calls (answered or still waiting for their ACK) one source
	// may hold at once. Zero means 32.
	CallsPerSource int
	// PendingPerSource is how many of those calls one source may have still waiting for the
	// ACK of their 2xx: a phone has one at a time, and each holds media ports for up to Timer H,
	// so a few sources could otherwise fill the -rtp range with calls nobody confirms. Zero
	// means 8.
	PendingPerSource int
	// TrunkPendingPerSource is the same cap for a trunk (Config.Auth.Trunks), which is exempt
	// from the other per-source limits: a trunk carries many callers, but each call's ACK follows
	// its 2xx within a round trip, so only a few wait at once; and an INVITE forged from a trunk's
	// address over UDP is never confirmed (its ACK needs confd's random To tag), so without a cap
	// a flood of them would hold every call place for Timer H. Zero means 64.
	TrunkPendingPerSource int
	// TrunkRequestRate is how many requests other than INVITE outside a dialog (and in-dialog
	// requests that match no dialog) a trunk may send per second over UDP, twice as many at
	// once; beyond it they are dropped without an answer, and the trunk's refused INVITEs are
	// answered within the same rate. A trunk is exempt from RequestRate, and
	// requests forged from its address over UDP must not turn confd's answers into a flood at
	// the trunk (whose carrier might then block confd); a trunk's own OPTIONS pings and stray
	// in-dialog requests are far fewer. Its INVITEs are bounded by TrunkPendingPerSource. Zero
	// means 50.
	TrunkRequestRate float64
	// MaxCalls caps the calls of every source together. Zero means no cap other than the
	// media ports (-rtp).
	MaxCalls int
	// HoldTimeout ends a call on hold (a=sendonly or a=inactive) from which neither RTP nor
	// RTCP came for this long. Zero means 5 min.
	HoldTimeout time.Duration
	// MinSessionExpires is the smallest RFC 4028 session interval accepted (Min-SE); a
	// shorter Session-Expires is answered 422. Zero means 90 s (the RFC's floor).
	MinSessionExpires time.Duration
	// TCPIdleTimeout closes a SIP/TCP connection on which no message came for this long.
	// Zero means 2 min.
	TCPIdleTimeout time.Duration
	// TCPMessageTimeout closes a SIP/TCP connection on which a message, once begun, is not
	// complete within this time. Zero means 10 s.
	TCPMessageTimeout time.Duration
	// TCPConnsPerSource is how many SIP/TCP connections one source may hold open; more are
	// closed at once. Zero means 8.
	TCPConnsPerSource int
}

// WithDefaults returns l with every zero value replaced by its documented default.
func (l Limits) WithDefaults() Limits {
	l.InviteRate = cmp.Or(l.InviteRate, 5)
	l.InviteBurst = cmp.Or(l.InviteBurst, max(int(4*l.InviteRate), 10))
	l.RequestRate = cmp.Or(l.RequestRate, 20)
	l.CallsPerSource = cmp.Or(l.CallsPerSource, 32)
	l.PendingPerSource = cmp.Or(l.PendingPerSource, 8)
	l.TrunkPendingPerSource = cmp.Or(l.TrunkPendingPerSource, 64)
	l.TrunkRequestRate = cmp.Or(l.TrunkRequestRate, 50)
	l.HoldTimeout = cmp.Or(l.HoldTimeout, 5*time.Minute)
	l.MinSessionExpires = cmp.Or(l.MinSessionExpires, 90*time.Second)
	l.TCPIdleTimeout = cmp.Or(l.TCPIdleTimeout, 2*time.Minute)
	l.TCPMessageTimeout = cmp.Or(l.TCPMessageTimeout, 10*time.Second)
	l.TCPConnsPerSource = cmp.Or(l.TCPConnsPerSource, 8)
	return l
}

// DialOut limits dial-out (Server.DialOut, POST /api/rooms/{room}/dial), against toll fraud
// with a leaked API token. The zero value allows every destination at 1 per second.
type DialOut struct {
	// Allow lists the destinations confd may dial, or transfer a call to, as guard.ParseDialAllow
	// reads them (numbers and hosts); NewServer refuses a list it cannot read. Empty allows
	// every destination.
	Allow []string
	// Rate is how many dial-outs may start per second on average, all rooms together. Zero
	// means 1.
	Rate float64
	// Burst is how many may start at once after a quiet spell. Zero means 10.
	Burst int
}

// Credential answers a digest challenge on dial-out (RFC 3261 section 22.2) whose realm is
// Realm, exactly, from a request to Host, or, without a Host, to the host named like Realm (a
// realm is no secret: any callee can name it). A credential without a realm must name a host:
// it then answers any realm from that host, and no other host ever sees it.
type Credential struct {
	Realm, Host, User, Password string
}

// Registration is one outbound registration (RFC 3261 section 10), kept up while the server
// runs.
type Registration struct {
	// Registrar is the registrar's SIP URI, e.g. "sip:sip.example.net".
	Registrar string
	// User and Password are the account and its digest password.
	User, Password string
	// Domain is the domain of the address of record. Empty means the registrar's host.
	Domain string
	// Expiry is the registration lifetime asked for. Zero means 3600 s.
	Expiry time.Duration
}
