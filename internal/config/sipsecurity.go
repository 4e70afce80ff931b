package config

import (
	"fmt"
	"math"
)

// SIPLimits bounds what one source may cost the SIP listener on a public address (issue 8:
// INVITE floods, un-ACKed and held calls, idle TCP connections). Every zero value is the
// documented default, which sipleg.Limits applies (cmd/confd translates one into the other);
// trunks (Security.Trunks) are exempt from the per-source limits but
// count against MaxCalls.
type SIPLimits struct {
	// InviteRate is how many new calls (INVITEs outside a dialog) one source may start per
	// second on average. Zero means 5.
	InviteRate float64 `toml:"invite_rate"`
	// InviteBurst is how many it may start at once after a quiet spell. Zero means
	// 4×InviteRate, at least 10.
	InviteBurst int `toml:"invite_burst"`
	// RequestRate is how many requests outside a dialog (INVITE included, and in-dialog
	// requests that match no dialog) one source may send per second; beyond it they are
	// answered 503 statelessly, and beyond twice as many not at all. Zero means 20.
	RequestRate float64 `toml:"request_rate"`
	// CallsPerSource is how many calls (answered or still waiting for their ACK) one source
	// may hold at once. Zero means 32.
	CallsPerSource int `toml:"calls_per_source"`
	// PendingPerSource is how many of those calls one source may have still waiting for the
	// ACK of their 2xx: a phone has one at a time, and each holds media ports for up to Timer H,
	// so a few sources could otherwise fill the -rtp range with calls nobody confirms. Zero
	// means 8.
	PendingPerSource int `toml:"pending_per_source"`
	// TrunkPendingPerSource is the same cap for a trunk (security.trunks), which is exempt from
	// the other per-source limits: an INVITE forged from a trunk's address is never confirmed,
	// and without a cap a flood of them would hold every call place. Zero means 64.
	TrunkPendingPerSource int `toml:"trunk_pending_per_source"`
	// TrunkRequestRate is how many requests other than INVITE outside a dialog a trunk may send
	// per second (twice as many at once); beyond it they are dropped: a trunk is exempt from
	// RequestRate, and requests forged from its address must not turn confd's answers into a
	// flood at it. Zero means 50.
	TrunkRequestRate float64 `toml:"trunk_request_rate"`
	// MaxCalls caps the calls of every source together. Zero means no cap other than the
	// media ports (-rtp).
	MaxCalls int `toml:"max_calls"`
	// HoldTimeout ends a call on hold (a=sendonly or a=inactive) from which neither RTP nor
	// RTCP came for this long. Zero means 5m.
	HoldTimeout Duration `toml:"hold_timeout"`
	// MinSessionExpires is the smallest RFC 4028 session interval accepted (Min-SE); a
	// shorter Session-Expires is answered 422. Zero means 90s (the RFC's floor).
	MinSessionExpires Duration `toml:"min_session_expires"`
	// TCPIdleTimeout closes a SIP/TCP connection on which no message came for this long.
	// Zero means 2m.
	TCPIdleTimeout Duration `toml:"tcp_idle_timeout"`
	// TCPMessageTimeout closes a SIP/TCP connection on which a message, once begun, is not
	// complete within this time. Zero means 10s.
	TCPMessageTimeout Duration `toml:"tcp_message_timeout"`
	// TCPConnsPerSource is how many SIP/TCP connections one source may hold open; more are
	// closed at once. Zero means 8.
	TCPConnsPerSource int `toml:"tcp_conns_per_source"`
}

// isRate reports whether v is a number a limit or a rate may be: finite and not negative. TOML
// has nan and inf: a NaN rate compares false with everything and so limited nothing.
func isRate(v float64) bool { return v >= 0 && !math.IsInf(v, 1) }

// validate names the first setting that is negative or not a number.
func (l SIPLimits) validate() error {
	for name, v := range map[string]float64{
		"invite_rate": l.InviteRate, "request_rate": l.RequestRate, "invite_burst": float64(l.InviteBurst),
		"calls_per_source": float64(l.CallsPerSource), "max_calls": float64(l.MaxCalls), "pending_per_source": float64(l.PendingPerSource),
		"trunk_pending_per_source": float64(l.TrunkPendingPerSource), "trunk_request_rate": l.TrunkRequestRate,
		"tcp_conns_per_source": float64(l.TCPConnsPerSource), "hold_timeout": float64(l.HoldTimeout),
		"min_session_expires": float64(l.MinSessionExpires), "tcp_idle_timeout": float64(l.TCPIdleTimeout),
		"tcp_message_timeout": float64(l.TCPMessageTimeout),
	} {
		if !isRate(v) {
			return fmt.Errorf("security.sip.%s: %v is not a number ≥ 0", name, v)
		}
	}
	return nil
}
