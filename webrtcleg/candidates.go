package webrtcleg

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
)

// limitCandidates returns offer with only the remote ICE candidates (RFC 8839 section 5.1)
// that confd will check: UDP, an IP address that can be sent to (not unspecified, multicast or
// the limited broadcast address, a port other than 0), component 1, each transport address
// once, and at most max of them. A full ICE agent sends Binding requests to every pair
// it forms (RFC 8445 section 6.1.4), so an offer's candidates are a list of addresses confd is
// asked to send to: without this an offer with a hundred candidates, each naming a stranger,
// makes confd a reflector. Candidates that are dropped never reach pion.
//
// Host names are dropped too, mDNS names (RFC 8445 section 5.1.1.1, ".local") included: confd
// resolves none (no DNS lookups on an offerer's behalf, no multicast socket per leg), and a
// browser that hides its address behind one is learned as a peer-reflexive candidate from its
// own checks. confd's only candidates are UDP candidates of component 1 (RTP and RTCP
// multiplexed, RFC 8843 and RFC 5761, which WebRTC requires), so TCP candidates and those of
// component 2 (RTCP) could pair with nothing of confd's. It also returns how many candidate
// lines it dropped.
func limitCandidates(offer string, max int) (string, int) {
	if !strings.Contains(offer, "a=candidate:") {
		return offer, 0
	}
	lines := strings.SplitAfter(offer, "\n")
	kept := lines[:0]
	seen := map[netip.AddrPort]bool{}
	dropped := 0
	for _, l := range lines {
		raw, ok := strings.CutPrefix(strings.TrimRight(l, "\r\n"), "a=candidate:")
		if !ok {
			kept = append(kept, l)
			continue
		}
		addr, ok := parseCandidate(raw)
		if !ok || seen[addr] || len(seen) >= max {
			dropped++
			continue
		}
		seen[addr] = true
		kept = append(kept, l)
	}
	return strings.Join(kept, ""), dropped
}

// parseCandidate reads an a=candidate value ("foundation component transport priority address
// port typ type ...", RFC 8839 section 5.1) and reports whether confd may check it.
func parseCandidate(raw string) (netip.AddrPort, bool) {
	f := strings.Fields(raw)
	if len(f) < 8 || f[6] != "typ" || f[1] != "1" || !strings.EqualFold(f[2], "udp") {
		return netip.AddrPort{}, false
	}
	ip, err := netip.ParseAddr(f[4])
	if err != nil || ip.Zone() != "" {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(f[5], 10, 16)
	if err != nil || port == 0 || !usableRemote(ip) {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), true
}

// usableRemote reports whether confd may send ICE checks to ip: not the unspecified address,
// not multicast, not the limited broadcast address.
func usableRemote(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsUnspecified() && !ip.IsMulticast() && ip != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// remoteBudget is one call's pion remote IP filter: besides refusing addresses confd must not
// send to, it admits at most n remote candidates over the call's life. The offer's candidates
// are already limited by limitCandidates; the budget also bounds the peer-reflexive candidates
// pion learns from Binding requests (RFC 8445 section 7.3.1.3), whose source address an
// attacker who knows the ICE password can forge, so the candidate pairs, and the checks sent to
// them, stay bounded whatever arrives.
type remoteBudget struct {
	left atomic.Int64
}

func newRemoteBudget(n int) *remoteBudget {
	b := &remoteBudget{}
	b.left.Store(int64(n))
	return b
}

// keep implements the SettingEngine's remote IP filter.
func (b *remoteBudget) keep(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || !usableRemote(a) {
		return false
	}
	return b.left.Add(-1) >= 0
}
