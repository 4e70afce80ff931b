package webrtcleg

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"confd/bridge"
)

// Call is one WebRTC participant: its PeerConnection (ICE, DTLS-SRTP, RFC 8827) and its place in
// a room. A WHIP or WHEP resource is a Call; so is a SIP-over-WebSocket call (RFC 7118), whose
// signalling stays with the SIP side and which uses Close, Done and DTMF.
type Call struct {
	s      *Server
	id     string
	room   string
	kind   string // "whip", "whep" or "sip"
	pc     *webrtc.PeerConnection
	track  *audioTrack // nil when confd sends nothing (a WHIP publisher)
	sender *webrtc.RTPSender
	info   bridge.ParticipantInfo // what joins the room once connected; set before answered
	held   bool                   // join on hold (benchmarks)
	part   atomic.Pointer[bridge.Participant]
	joined chan struct{} // closed once the Join succeeded or failed, or the call ended first

	joinOnce   sync.Once
	joinedOnce sync.Once
	release    func() // gives the call's place back to the server's admission; once, at the end

	mu             sync.Mutex
	closing        bool           // no reader may start once set; guarded by mu
	answered       bool           // info is complete; guarded by mu
	connectedEarly bool           // ICE and DTLS were up before answered; guarded by mu
	readers        sync.WaitGroup // the goroutines that read the peer connection or join it
	reason         string         // why the call ended; guarded by mu
	timer          *time.Timer    // the connect deadline; guarded by mu

	ended     atomic.Bool
	endOnce   sync.Once
	done      chan struct{}
	trackSeen atomic.Bool
	connected atomic.Bool

	// rtcpRaw and rtcpOut carry the room's report into pion's WriteRTCP (SendRTCP) without
	// allocating; the room's goroutine alone uses them.
	rtcpRaw rtcp.RawPacket
	rtcpOut [1]rtcp.Packet

	// rtcpMu serialises the two readers that push the peer's RTCP to the participant.
	rtcpMu sync.Mutex

	rtpIn, rtpMalformed, rtcpIn, rtcpBad atomic.Uint64
	fractionLost                         atomic.Uint32 // the peer's last report about confd's stream, in 1/256
}

// ID returns the call's resource id: the last segment of its WHIP/WHEP Location.
func (c *Call) ID() string { return c.id }

// Room returns the room the call is in.
func (c *Call) Room() string { return c.room }

// Participant returns the call's participant in the bridge, or nil until ICE and DTLS are up
// (and after a Join the bridge refused).
func (c *Call) Participant() *bridge.Participant { return c.part.Load() }

// Done is closed when the call has ended and its PeerConnection is closed (ICE or DTLS failed,
// the peer vanished past the ICE timeouts, it was kicked or hung up, or the server closed).
// The SIP side sends BYE when Done closes and it did not call Close itself.
func (c *Call) Done() <-chan struct{} { return c.done }

// Reason says why the call ended, or "" while it goes on.
func (c *Call) Reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// Close ends the call from the peer's side (a WHIP DELETE, a SIP BYE) and waits until its
// PeerConnection is closed. It is safe to call more than once.
func (c *Call) Close() error {
	c.end("hangup")
	<-c.done
	return nil
}

// DTMF hands a digit the peer sent by SIP INFO (RFC 6086) to the participant, as if it had come
// by RFC 4733 in the media (a *6 toggles self-mute, the IVR hears it).
func (c *Call) DTMF(digit byte, now time.Time) {
	if p := c.part.Load(); p != nil {
		p.DTMF(digit, now)
	}
}

// CallStats is a snapshot of a call's counters.
type CallStats struct {
	// Connected is true once ICE and DTLS-SRTP are up and the participant is in its room.
	Connected bool
	// RTPReceived counts the RTP packets read from the peer, and RTPMalformed those of them
	// whose header does not parse: the leg's one count of packets refused before the bridge sees
	// them. A packet the jitter buffer refuses (a payload type not negotiated) is counted there
	// (jitter.Stats.Invalid, the metric confd_rtp_invalid_packets_total), not again here.
	RTPReceived, RTPMalformed uint64
	// RTPSent and RTPDropped count the packets the room handed the leg and those not sent
	// (before negotiation, or an SRTP error).
	RTPSent, RTPDropped uint64
	// RTCPReceived and RTCPBad count the RTCP packets from the peer about confd's stream.
	RTCPReceived, RTCPBad uint64
	// FractionLost is the share of confd's packets the peer last reported lost (RFC 3550
	// section 6.4.1), 0 to 1: what sets the Opus encoder's expected loss.
	FractionLost float64
}

// Stats returns the call's counters.
func (c *Call) Stats() CallStats {
	st := CallStats{
		Connected: c.connected.Load(), RTPReceived: c.rtpIn.Load(), RTPMalformed: c.rtpMalformed.Load(),
		RTCPReceived: c.rtcpIn.Load(), RTCPBad: c.rtcpBad.Load(),
		FractionLost: float64(c.fractionLost.Load()) / 256,
	}
	if c.track != nil {
		st.RTPSent, st.RTPDropped = c.track.sent.Load(), c.track.dropped.Load()
	}
	return st
}

// leg is the Call as the bridge sees it.
type leg struct{ c *Call }

// SendRTP implements bridge.Leg: into pion's SRTP writer, never blocking on the peer.
func (l leg) SendRTP(pkt []byte) {
	if t := l.c.track; t != nil {
		t.write(pkt)
	}
}

// SendRTPHeader implements bridge.TypedLeg: the header as a struct, into pion's SRTP writer.
func (l leg) SendRTPHeader(h *rtp.Header, payload []byte) {
	if t := l.c.track; t != nil {
		t.writeHeader(h, payload)
	}
}

// SendRTCP implements bridge.RTCPLeg: the room hands over the participant's SR or RR and SDES
// when due (about every 5 s, randomised: bridge.Config.RTCPInterval), already marshalled, with
// the answer's SSRC (the leg gave the room its stream: answer.go), and it goes to pion's SRTCP writer as it is
// (rtcp.RawPacket): pion marshals nothing again. Nothing goes before the call is connected.
func (l leg) SendRTCP(pkt []byte) {
	c := l.c
	if !c.connected.Load() || c.ended.Load() {
		return
	}
	if c.rtcpOut[0] == nil {
		c.rtcpOut[0] = &c.rtcpRaw
	}
	c.rtcpRaw = pkt
	err := c.pc.WriteRTCP(c.rtcpOut[:])
	c.rtcpRaw = nil
	if err != nil {
		c.s.log.Debug("sending RTCP", "call", c.id, "err", err)
	}
}

// Hangup implements bridge.Leg: the PeerConnection is closed in the background.
func (l leg) Hangup(reason string) { l.c.end(reason) }

// end takes the participant out of its room at once and closes the PeerConnection in the
// background; Done closes when pion has let go of every socket and goroutine.
func (c *Call) end(reason string) {
	c.endOnce.Do(func() {
		c.ended.Store(true)
		c.mu.Lock()
		c.reason, c.closing = reason, true
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
		c.closeJoined()
		if p := c.part.Load(); p != nil {
			p.Leave(reason)
		}
		c.s.stats.ended.Add(1)
		c.s.log.Info("webrtc call ended", "room", c.room, "call", c.id, "kind", c.kind, "reason", reason)
		go func() {
			if err := c.pc.Close(); err != nil {
				c.s.log.Debug("closing peer connection", "call", c.id, "err", err)
			}
			c.readers.Wait()
			c.s.forget(c)
			c.release()
			close(c.done)
		}()
	})
}

// startReader registers a reader goroutine, unless the call is closing.
func (c *Call) startReader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	c.readers.Add(1)
	return true
}

func (c *Call) closeJoined() { c.joinedOnce.Do(func() { close(c.joined) }) }

func (c *Call) onConnectionState(st webrtc.PeerConnectionState) {
	switch st {
	case webrtc.PeerConnectionStateConnected:
		c.mu.Lock()
		early := !c.answered
		c.connectedEarly = early
		c.mu.Unlock()
		if !early {
			c.join()
		}
	case webrtc.PeerConnectionStateFailed:
		c.end("ice or dtls failed")
	case webrtc.PeerConnectionStateClosed:
		c.end("closed")
	}
}

// join puts the participant in its room, once ICE and DTLS are up: an offerer that never
// connects is never in a roster, never sent a packet, and costs only what the connect timeout
// bounds. A room that has since been locked, filled or drained ends the call.
func (c *Call) join() {
	if !c.startReader() {
		return // ended: pion runs this handler on a goroutine of its own, maybe late
	}
	defer c.readers.Done()
	c.joinOnce.Do(func() {
		p, err := c.s.b.Join(c.room, c.info, leg{c})
		if err != nil {
			c.closeJoined()
			c.end("refused: " + err.Error())
			return
		}
		if c.held {
			p.SetHold(true)
		}
		c.part.Store(p)
		c.mu.Lock()
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
		c.connected.Store(true)
		c.closeJoined()
		if c.ended.Load() {
			p.Leave(c.Reason()) // the call ended while the participant was joining
			return
		}
		if c.sender != nil && c.startReader() {
			go c.readSenderRTCP()
		}
		c.s.log.Info("webrtc call connected", "room", c.room, "call", c.id, "participant", p.ID())
	})
}

// onTrack reads the peer's audio into the participant: one reused buffer, decrypted RTP, parsed
// once here into one reused rtp.Packet and handed over as header and payload
// (bridge.Participant.PushRTPPacket).
func (c *Call) onTrack(tr *webrtc.TrackRemote, rx *webrtc.RTPReceiver) {
	if tr.Kind() != webrtc.RTPCodecTypeAudio || c.trackSeen.Swap(true) || !c.startReader() {
		return
	}
	defer c.readers.Done()
	<-c.joined
	p := c.part.Load()
	if p == nil {
		return
	}
	if c.startReader() {
		go c.readReceiverRTCP(rx)
	}
	buf := make([]byte, 1500)
	pkt := new(rtp.Packet)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		c.rtpIn.Add(1)
		if pkt.Unmarshal(buf[:n]) != nil {
			c.rtpMalformed.Add(1)
			continue
		}
		_ = p.PushRTPPacket(&pkt.Header, pkt.Payload, time.Now()) // a refusal is the buffer's to count
	}
}

// readReceiverRTCP hands the peer's sender reports to the participant, so that confd's
// receiver reports carry LSR and DLSR and the peer can measure the round trip (RFC 3550
// section 6.4.1). Report blocks about confd's stream in them are read here as well as by
// readSenderRTCP, to which pion gives the same packets: applying one twice changes nothing.
func (c *Call) readReceiverRTCP(rx *webrtc.RTPReceiver) {
	defer c.readers.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := rx.Read(buf)
		if err != nil {
			return
		}
		if p := c.part.Load(); p != nil {
			c.rtcpMu.Lock()
			err := p.PushRTCP(buf[:n], time.Now())
			c.rtcpMu.Unlock()
			if err != nil {
				c.rtcpBad.Add(1)
			}
		}
	}
}

// readSenderRTCP reads the peer's reports about confd's stream and feeds their loss to the
// participant's Opus encoder.
func (c *Call) readSenderRTCP() {
	defer c.readers.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := c.sender.Read(buf)
		if err != nil {
			return
		}
		c.onPeerRTCP(buf[:n], time.Now())
	}
}

// onPeerRTCP hands the peer's report blocks about confd's stream to the participant, whose Opus
// encoder takes their loss (RFC 7587 section 3.1.2's in-band FEC), and keeps the last fraction
// lost for CallStats. The participant writes the answer's SSRC, so the blocks are about its own
// stream as they are. Only the blocks: pion hands a sender report of the peer's to
// readReceiverRTCP as well, which applies it once, at its arrival (the round trip's reference,
// RFC 3550 section 6.4.1). About once a second.
func (c *Call) onPeerRTCP(raw []byte, now time.Time) {
	p := c.part.Load()
	if p == nil {
		return
	}
	pkts, err := rtcp.Unmarshal(raw)
	if err != nil {
		c.rtcpBad.Add(1)
		return
	}
	var blocks []rtcp.ReceptionReport
	var peer uint32
	for _, pkt := range pkts {
		var reports []rtcp.ReceptionReport
		switch pkt := pkt.(type) {
		case *rtcp.ReceiverReport:
			peer, reports = pkt.SSRC, pkt.Reports
		case *rtcp.SenderReport:
			peer, reports = pkt.SSRC, pkt.Reports
		}
		for _, b := range reports {
			if b.SSRC == p.SSRC() {
				blocks = append(blocks, b)
			}
		}
	}
	if len(blocks) == 0 {
		return
	}
	c.rtcpIn.Add(1)
	c.fractionLost.Store(uint32(blocks[len(blocks)-1].FractionLost))
	c.rtcpMu.Lock()
	p.PushRTCPPackets([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: peer, Reports: blocks}}, now)
	c.rtcpMu.Unlock()
}
