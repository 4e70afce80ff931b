package sipleg

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"confd/bridge"
	"confd/codec"
	"confd/internal/guard"
	"confd/sdpneg"
)

// CascadeHeader marks an INVITE as a cascade leg between two confd nodes; its value is the
// calling node's name (README "Several nodes"). A node that holds participants of a room owned
// by another joins the owner's room with one such call: it carries the local participants' mix
// to the owner and the owner's mix, minus this node, back. Each end is an ordinary participant
// of its room, so minus-one mixing alone keeps every voice from coming back to where it
// entered.
const CascadeHeader = "X-Confd-Cascade"

// ErrNotCascade is returned by DialCascade for an empty node name.
var ErrNotCascade = errors.New("sipleg: a cascade call needs this node's name")

// DialCascade calls room on another confd node (owner, its SIP address) as this node, named
// self: a dial-out with the X-Confd-Cascade header, offering Opus first. It returns the call's
// id; the call joins room here when answered, like any dial-out.
func (s *Server) DialCascade(ctx context.Context, room string, owner netip.AddrPort, self string) (string, error) {
	if self == "" {
		return "", ErrNotCascade
	}
	return s.dial(ctx, room, fmt.Sprintf("sip:%s@%s", room, owner), self)
}

// cascadeOf returns the node named by req's X-Confd-Cascade header ("" for an ordinary call);
// ok is false when the header is there but the source is not that node's configured address.
func (s *Server) cascadeOf(req *sip.Request) (node string, ok bool) {
	h := req.GetHeader(CascadeHeader)
	if h == nil {
		return "", true
	}
	node = h.Value()
	if node == "" || s.cfg.Cascade == nil || !s.cfg.Cascade(guard.SourceAddr(req.Source()), node) {
		return "", false
	}
	return node, true
}

// cascadeInfo marks a cascade leg's participant: its kind, its name (the other node), how the
// room phases its tick on it, and its output (cascadeFormat).
func (c *call) cascadeInfo(info *bridge.ParticipantInfo) {
	info.Kind, info.Name, info.Cascade = bridge.KindCascade, "cascade "+c.cascade, c.cascade // the calling node, on the owner
	// The owner sets its tick about halfway between the calling node's; the calling node
	// never phases on the owner's, or the two would chase each other (bridge/phase.go).
	info.Phasing = bridge.PhaseLead
	if c.outbound {
		info.Name, info.Cascade = "cascade to "+c.peer, c.peer // the owner (its address), on the calling node
		info.Phasing = bridge.PhaseNever
	}
	info.LowDelay = true
	info.WhileDraining = c.outbound // this node's own calls, draining, still hear their room
	info.Output = c.s.cascadeFormat(info.Output)
}

// sendFormat is res.SendFormat, made a cascade's for a cascade leg (a re-INVITE keeps it).
func (c *call) sendFormat(res *sdpneg.Result) codec.Format {
	if c.cascade != "" {
		return c.s.cascadeFormat(res.SendFormat())
	}
	return res.SendFormat()
}

// cascadeFormat is what a cascade leg is sent in Opus: a high bitrate, since what it carries is
// heard again by the other node's participants; no DTX, so that packets keep the owner's tick
// in phase through silences (and the other end's jitter buffer keeps playing, never starting a
// talkspurt afresh); and libopus's restricted low-delay application, 2.5 ms of look-ahead
// instead of 6.5, since the cascade's delay adds to every voice that crosses it.
func (s *Server) cascadeFormat(f codec.Format) codec.Format {
	if f.Codec != codec.Opus {
		return f
	}
	if s.cfg.CascadeBitrate > 0 {
		f.Bitrate = s.cfg.CascadeBitrate
	}
	f.NoDTX, f.LowDelay = true, true
	return f
}
