package sdpneg

import (
	"cmp"
	"fmt"
	"net/netip"
	"time"

	"confd/codec"
)

// Result is what a negotiation decided for the audio stream: everything the RTP leg needs.
type Result struct {
	// MediaIndex is the position (from 0) of the audio m-line that was used; every other
	// m-line was rejected with port 0.
	MediaIndex int
	// Remote is where to send RTP: the media-level c= address if there is one, else the
	// session-level one (RFC 4566 section 5.7), and the m-line's port. Its address is 0.0.0.0
	// (or ::) when the remote holds the call the RFC 2543 way; LocalDirection then does not send.
	Remote netip.AddrPort
	// RemoteRTCP is where to send RTCP: a=rtcp (RFC 3605) if given, else Remote's port + 1, or
	// Remote itself with RTCPMux.
	RemoteRTCP netip.AddrPort
	// RTCPMux is true when RTP and RTCP share one port each way (RFC 5761): the remote offered
	// or answered a=rtcp-mux and Local did not decline it.
	RTCPMux bool
	// Profile is the m-line's transport: "RTP/AVP" or "RTP/AVPF" (RFC 4585).
	Profile string
	// Codec is the audio codec of the stream.
	Codec codec.Codec
	// PayloadType is the RTP payload type to send Codec with: the number the remote's SDP
	// gives it (RFC 3264 section 6.1).
	PayloadType uint8
	// LocalPayloadType is the payload type the remote sends Codec with: the number confd's own
	// SDP gives it. It equals PayloadType in an answer confd wrote.
	LocalPayloadType uint8
	// Accepted lists every codec the answer accepted, first the chosen one, each with the payload
	// type of the remote's SDP; an answer confd writes accepts one codec, a remote answer may
	// accept several and the remote may then switch among them.
	Accepted []Payload
	// TelephoneEvent is the negotiated RFC 4733 event stream; its ClockRate is 0 when there is
	// none (DTMF can then only come as SIP INFO or in-band).
	TelephoneEvent TelephoneEvent
	// PacketTime is the remote's a=ptime: the packet time it wants to receive. Zero when absent.
	PacketTime time.Duration
	// MaxPacketTime is the remote's a=maxptime (RFC 4566 section 6). Zero when absent.
	MaxPacketTime time.Duration
	// RemoteDirection is the remote's direction as its SDP says it, made Inactive or SendOnly
	// when its connection address is 0.0.0.0 (the remote receives nothing there).
	RemoteDirection Direction
	// LocalDirection is confd's direction: what it wrote in its answer, or, for a remote answer,
	// what confd offered intersected with the reverse of the answer's direction. Send RTP only
	// when LocalDirection.Sends().
	LocalDirection Direction
	// Opus holds the remote's Opus format parameters (RFC 7587) when Codec is Opus.
	Opus OpusParams
	// RemoteSessionID and RemoteSessionVersion are the o= fields of the remote's SDP.
	RemoteSessionID, RemoteSessionVersion uint64
	// Unchanged is set by a Session when the remote's o= line carries the same session id and
	// version as its previous SDP in the dialog: by RFC 3264 section 8 the SDP is the same
	// (a session refresh), so the media need not be touched.
	Unchanged bool
}

// Payload is one RTP payload type and the codec it carries.
type Payload struct {
	// Type is the RTP payload type number.
	Type uint8
	// Codec is the codec.
	Codec codec.Codec
}

// TelephoneEvent describes an RFC 4733 telephone-event stream (DTMF in RTP).
type TelephoneEvent struct {
	// PayloadType is the payload type to send events with (the remote's number).
	PayloadType uint8
	// LocalPayloadType is the payload type the remote sends events with (confd's number).
	LocalPayloadType uint8
	// ClockRate is the events' RTP clock in Hz; 0 when there is no telephone-event stream.
	// When it is not the codec's (telephone-event/8000 beside Opus), event durations count
	// ClockRate ticks while the timestamps may advance at the codec's clock: a dtmf.Receiver is
	// given both (ReceiverConfig.TimestampRate).
	ClockRate int
	// Events is the remote's event list from its fmtp line, such as "0-16"; empty when absent,
	// which RFC 4733 section 2.4.1 reads as "0-15".
	Events string
}

// Present reports whether a telephone-event stream was negotiated.
func (t TelephoneEvent) Present() bool { return t.ClockRate != 0 }

// SendFormat returns the codec.Format to encode for this remote: the codec, the remote's
// packet time rounded down to a multiple of 20 ms (at least 20 ms, at most its maxptime and
// codec.MaxPacketDuration), and for Opus the remote's maxaveragebitrate (if below the default
// 32 kbit/s), FEC only if it said useinbandfec=1 and DTX only if it said usedtx=1 (RFC 7587
// section 6.1 defaults both to off), and Stereo if it said stereo=1: its decoder takes stereo,
// which the mixer sends only while a pan applies to it (mixer/stereo.go).
func (r *Result) SendFormat() codec.Format {
	f := codec.Format{Codec: r.Codec, PacketTime: sendPacketTime(r.PacketTime, r.MaxPacketTime)}
	if r.Codec == codec.Opus {
		if b := r.Opus.MaxAverageBitrate; b >= 6000 && b < 32000 {
			f.Bitrate = b
		}
		f.NoFEC = !r.Opus.UseInbandFEC
		f.NoDTX = !r.Opus.UseDTX
		f.Stereo = r.Opus.Stereo
	}
	return f
}

// sendPacketTime rounds a remote's ptime/maxptime to a packet time confd can send.
func sendPacketTime(ptime, maxptime time.Duration) time.Duration {
	pt := ptime
	pt = cmp.Or(pt, codec.FrameDuration)
	if maxptime > 0 && pt > maxptime {
		pt = maxptime
	}
	pt = min(pt, codec.MaxPacketDuration)
	pt -= pt % codec.FrameDuration
	return max(pt, codec.FrameDuration)
}

// String describes the result in one line for logs.
func (r *Result) String() string {
	s := fmt.Sprintf("%s/%d pt=%d → %v (%s) %s/%s", r.Codec, r.Codec.ClockRate(), r.PayloadType,
		r.Remote, r.Profile, r.LocalDirection, r.RemoteDirection)
	if r.TelephoneEvent.Present() {
		s += fmt.Sprintf(" dtmf pt=%d/%d", r.TelephoneEvent.PayloadType, r.TelephoneEvent.ClockRate)
	}
	if r.RTCPMux {
		s += " rtcp-mux"
	}
	return s
}
