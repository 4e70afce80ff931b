package webrtcleg

import (
	"strings"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// audioTrack is confd's outgoing audio as a pion TrackLocal. It is the cheapest way into pion's
// send path: the bridge has already written a whole RTP packet (the SSRC of the answer's SDP,
// which the leg gave the room, sequence number and timestamp, RFC 3550 section 5.1), so the
// track only reads the header into one reused rtp.Header, puts the payload type of pion's
// binding in it and hands header and payload to the binding's writer: SRTP (RFC 3711). TrackLocalStaticRTP would do the same work plus a parse
// of the whole packet and a loop over bindings under a lock.
//
// write is called only by the room's tick goroutine; Bind and Unbind by pion.
type audioTrack struct {
	id, streamID string
	binding      atomic.Pointer[trackBinding]
	hdr          rtp.Header // reused by write; owned by the tick goroutine
	sent         atomic.Uint64
	dropped      atomic.Uint64
}

// trackBinding is what pion's Bind hands the track: where packets go and with which payload
// type.
type trackBinding struct {
	w  webrtc.TrackLocalWriter
	pt uint8
}

func newAudioTrack(id string) *audioTrack {
	return &audioTrack{id: "audio", streamID: "confd-" + id}
}

// Bind implements webrtc.TrackLocal: it picks Opus among the negotiated codecs.
func (t *audioTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	for _, c := range ctx.CodecParameters() {
		if strings.EqualFold(c.MimeType, webrtc.MimeTypeOpus) {
			t.binding.Store(&trackBinding{w: ctx.WriteStream(), pt: uint8(c.PayloadType)})
			return c, nil
		}
	}
	return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
}

// Unbind implements webrtc.TrackLocal.
func (t *audioTrack) Unbind(webrtc.TrackLocalContext) error {
	t.binding.Store(nil)
	return nil
}

// ID implements webrtc.TrackLocal.
func (t *audioTrack) ID() string { return t.id }

// RID implements webrtc.TrackLocal; audio has no simulcast.
func (t *audioTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal.
func (t *audioTrack) StreamID() string { return t.streamID }

// Kind implements webrtc.TrackLocal.
func (t *audioTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }

// writeHeader sends one RTP packet whose header the bridge hands over as a struct
// (bridge.TypedLeg): no packet is marshalled for pion to take apart again. Before DTLS-SRTP is
// up pion drops it.
func (t *audioTrack) writeHeader(h *rtp.Header, payload []byte) {
	b := t.binding.Load()
	if b == nil {
		t.dropped.Add(1)
		return
	}
	t.hdr = *h
	t.hdr.PayloadType = b.pt
	if _, err := b.w.WriteRTP(&t.hdr, payload); err != nil {
		t.dropped.Add(1)
		return
	}
	t.sent.Add(1)
}

// write sends one RTP packet written by the bridge. Before DTLS-SRTP is up pion drops it.
func (t *audioTrack) write(pkt []byte) {
	b := t.binding.Load()
	if b == nil {
		t.dropped.Add(1)
		return
	}
	n, err := t.hdr.Unmarshal(pkt)
	if err != nil {
		t.dropped.Add(1)
		return
	}
	t.hdr.PayloadType = b.pt
	if _, err := b.w.WriteRTP(&t.hdr, pkt[n:]); err != nil {
		t.dropped.Add(1)
		return
	}
	t.sent.Add(1)
}
