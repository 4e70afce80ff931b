package bridge

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"confd/codec"
	"confd/dtmf"
	"confd/jitter"
	"confd/mixer"
)

// Leg is what a participant's signalling side (a SIP call, a WebRTC peer connection) gives the
// room to reach the peer.
type Leg interface {
	// SendRTP transmits one RTP packet to the peer. The room's tick calls it, so it must not
	// block: a leg whose socket is full drops the packet (and counts it).
	SendRTP(pkt []byte)
	// Hangup ends the call from confd's side (kicked, drained, shut down): a SIP leg sends BYE,
	// a WebRTC leg closes its peer connection. The leg then calls Participant.Leave.
	Hangup(reason string)
}

// PolledLeg is a Leg whose incoming packets the room reads itself: before each tick the room's
// goroutine calls Poll, which reads what has arrived on the leg's socket without blocking and
// pushes it (PushRTP, PushRTCP) with its arrival time, so that no goroutine wakes per packet
// (issue 9 item 1). A leg that is not a PolledLeg pushes from goroutines of its own.
type PolledLeg interface {
	Leg
	// Poll pushes every packet that has arrived since the last call. It must not block, and it
	// is called by the room's goroutine only.
	Poll()
}

// TypedLeg is a Leg that takes the RTP header as a struct and the payload apart (issue 9 item 3),
// as pion's TrackLocalWriter.WriteRTP does: the room hands it the header its RTPSender keeps
// instead of marshalling a packet that the leg would parse again before pion marshals it once
// more. The room calls SendRTPHeader instead of SendRTP; h and payload are valid during the call.
type TypedLeg interface {
	Leg
	SendRTPHeader(h *rtp.Header, payload []byte)
}

// ParticipantInfo describes a joining participant and its negotiated media.
type ParticipantInfo struct {
	// Name is the display name (SIP From display name, WHIP ?name=), normalised at join
	// (displayName: printable, trimmed, at most MaxNameLen bytes); From is the caller's URI
	// or number; Kind is one of ListedKinds, or for confd's own participants KindRecorder,
	// KindPlayer or KindForwarder (kinds.go).
	Name, From, Kind string
	// Output is the encoding of what the participant hears and OutputPT its RTP payload type;
	// an Output without Codec means the participant hears nothing (a WHIP sendonly publisher).
	Output   codec.Format
	OutputPT uint8
	// Input lists the payload types the participant sends (audio, telephone-event, CN); empty
	// means it sends nothing (a WHEP listener).
	Input []jitter.PayloadType
	// LevelExtensionID is the id of the RFC 6464 client-to-mixer audio level header extension
	// the peer sends (one-byte form, RFC 8285), or 0.
	LevelExtensionID uint8
	// OnDigit, when set, receives each DTMF digit the participant sends, after the bridge has
	// published it (the IVR uses it). It is called from the goroutine that pushed the packet,
	// or the room's tick for a digit whose end packets were lost, and must not block.
	OnDigit func(digit byte)
	// WhileDraining lets the participant join while the bridge drains: a cluster's cascade leg,
	// which keeps a draining node's calls hearing their room until they end.
	WhileDraining bool
	// LowDelay starts the participant's jitter buffer at no added delay (it grows only with
	// the jitter measured): a cascade leg from another node on the same network, whose audio
	// has already been through one jitter buffer.
	LowDelay bool
	// Solo, when set, is the API id of the one participant this one hears, alone and at full
	// level, instead of the room (an RTP forwarder of one participant: JoinForwarder).
	Solo string
	// Moderator joins the participant as a moderator (its room's moderator PIN, a trusted
	// dial-in): see moderator.go.
	Moderator bool
	// Phasing says how the room's tick phasing treats the participant's packets (phase.go): a
	// person is PhaseTalking, the zero value.
	Phasing Phasing
	// Cascade names the other node of a cascade leg (cascade.go); "" for a person.
	Cascade string
	// RecordedName is the name the caller said at the IVR's prompt (NewRecordedName), which
	// announce_join_leave plays to the room when it joins and leaves (announce.go); nil for none.
	RecordedName *HoldMusic
	// Stream is the RTP stream the leg has already sent on (the IVR's prompts), which the room
	// goes on with: the phone sees one stream for the whole call, its SSRC, sequence numbers
	// one on, and a timestamp that has kept time with the wall clock since the last prompt
	// packet, as across a move (RFC 3550 section 5.1; a phone's jitter buffer need not start
	// over at the join). The leg must not touch it once it is given. nil starts a new stream.
	Stream *RTPSender
}

// Participant is one leg in a room: its jitter buffer and decoder (the mixer's Source), its RTP
// header writer, its receive statistics, and its matrix state.
//
// Who touches what: info is fixed at join (its media fields are the join's; output, outputPT
// and input are the current ones). The room's owner (see Room) alone touches output, outputPT,
// talking, the sender's header and the RTCP session (rtcp). The leg's reader touches what
// PushRTP does under pktMu: input, events and the parse scratch (the room's tick, too, takes
// pktMu to expire a digit: expireDigit). The rest is atomic, for
// readers on any goroutine.
type Participant struct {
	id      string
	mid     mixer.ID
	info    ParticipantInfo
	room    atomic.Pointer[Room] // the room that owns it; a move changes it (move.go)
	src     mixer.Source         // its mixer source, kept for a move
	leg     Leg
	polled  PolledLeg // leg, when the room reads its packets; else nil
	typed   TypedLeg  // leg, when it takes the header as a struct; else nil
	rtcpLeg RTCPLeg   // leg, when it sends the RTCP reports the room writes for it; else nil
	// censusLeg is leg, for a cascade leg that carries the room's census (census.go); else nil.
	censusLeg CensusLeg
	cname     string // the SDES CNAME of confd's stream to this participant
	joinedAt  time.Time

	buf       atomic.Pointer[jitter.Buffer]
	sender    *RTPSender
	recv      RTPReceiver
	hold      atomic.Bool
	lastMedia atomic.Int64
	outClock  atomic.Int32 // RTP clock of the output, for sender reports
	lossAsked atomic.Int32 // the expected loss last asked of the owner, so a report only wakes it on a change

	pktMu  sync.Mutex
	pkt    rtp.Packet // parse scratch for PushRTP, reused so parsing allocates nothing
	input  []jitter.PayloadType
	events *dtmf.Receiver
	// digitPending says, without pktMu, that events has a digit open (set under pktMu): the
	// tick takes pktMu to expire a digit only then, not for every participant every tick.
	digitPending atomic.Bool

	// Owned by the room's owner.
	output     codec.Format
	outputPT   uint8
	inputCodec string // the audio codec of input, for the API
	talking    bool
	moderator  bool // see moderator.go
	waiting    bool // not mixed until a moderator is in (moderator.go)
	// Of a cascade leg (census.go): what the other end reported behind it, what this end
	// last sent it, and the program generation whose gain to it is 0.
	behind, censusSent Census
	programOff         uint64
	rtcp               rtcpSession
	in                 *Room // the room whose mixer reads it (Read's tap)
	moved              moveState
	pp                 preprocessing // noise suppression and AGC (preprocess.go)

	// For readers: published by the owner.
	view       atomic.Pointer[partView]
	talkingNow atomic.Bool
	level      atomic.Int32 // codec.Level of the last tick

	dtmfMu      sync.Mutex
	lastDigit   byte
	lastDigitAt time.Time

	leaveOnce sync.Once
	left      atomic.Bool
}

// joinWith adds a participant whose mixer source is src, or its own jitter buffer when src is
// nil and it has Input.
func (r *Room) joinWith(info ParticipantInfo, leg Leg, src mixer.Source) (*Participant, error) {
	info.Name = displayName(info.Name) // the one rule, whatever the leg (name.go)
	id, mid := r.b.newParticipantID()
	sender := info.Stream
	if sender == nil {
		sender = NewRTPSender(info.OutputPT)
	} else {
		sender.SetPayloadType(info.OutputPT)
	}
	p := &Participant{
		id: id, mid: mid, info: info, leg: leg, joinedAt: now(),
		sender: sender, input: info.Input, output: info.Output, outputPT: info.OutputPT,
		inputCodec: audioCodec(info.Input), moderator: info.Moderator,
	}
	p.moved.pending = !sender.nextDue(info.Output.Codec.ClockRate()).IsZero() // a started stream goes on
	p.room.Store(r)
	p.polled, _ = leg.(PolledLeg)
	p.typed, _ = leg.(TypedLeg)
	p.rtcpLeg, _ = leg.(RTCPLeg)
	if info.Cascade != "" {
		p.censusLeg, _ = leg.(CensusLeg)
	}
	p.cname = "confd-" + id
	p.level.Store(int32(codec.Silence))
	p.outClock.Store(int32(info.Output.Codec.ClockRate()))
	p.lossAsked.Store(int32(info.Output.ExpectedLoss))
	if len(info.Input) > 0 {
		buf, rx, err := p.newBuffer(info.Input)
		if err != nil {
			return nil, err
		}
		p.buf.Store(buf)
		p.events = rx // no one else has p yet
	}
	p.lastMedia.Store(time.Now().UnixNano())
	if src == nil && len(info.Input) > 0 {
		src = p
	}
	p.src = src
	var err error
	r.do(func() {
		switch {
		case r.ending && p.person():
			err = ErrRoomEnding // it would never be hung up with the others
		case r.full(p):
			err = ErrRoomFull
		default:
			err = r.enter(p, nil)
		}
	})
	if err != nil {
		return nil, err
	}
	r.b.log.Info("joined", "room", r.name, "id", p.id, "name", info.Name, "from", info.From, "kind", info.Kind, "codec", info.Output.String())
	return p, nil
}

// newBuffer makes the jitter buffer for the payload types the participant sends, and the RFC
// 4733 event receiver its telephone-events need (nil without one). It installs neither: the
// caller does, once the change they belong to is accepted.
func (p *Participant) newBuffer(types []jitter.PayloadType) (*jitter.Buffer, *dtmf.Receiver, error) {
	cfg := p.room.Load().b.cfg.Jitter
	if p.info.LowDelay {
		cfg.StartDelay, cfg.MinDelay = time.Nanosecond, 0
	}
	if p.info.Cascade != "" {
		cfg.MaxTarget = cascadeMaxTarget
	}
	cfg.PayloadTypes = types
	cfg.OnEvent = p.handleEvent
	buf, err := jitter.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadSetting, err)
	}
	for _, t := range types {
		if t.Kind == jitter.TelephoneEvent {
			rx, err := dtmf.NewReceiver(dtmf.ReceiverConfig{ClockRate: t.ClockRate, TimestampRate: codecClock(types)})
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %w", ErrBadSetting, err)
			}
			return buf, rx, nil
		}
	}
	return buf, nil, nil
}

// ID returns the participant's id in the API.
func (p *Participant) ID() string { return p.id }

// Room returns the participant's room.
func (p *Participant) Room() *Room { return p.room.Load() }

// SSRC returns the SSRC of what confd sends to this participant.
func (p *Participant) SSRC() uint32 { return p.sender.SSRC() }

// Advance implements mixer.Source: the jitter buffer's, except that a participant on hold is
// silent (RFC 3264 section 8.4: whatever it still sends, such as music on hold, is not mixed).
func (p *Participant) Advance(now time.Time) codec.Activity {
	buf := p.buf.Load()
	if buf == nil {
		return codec.Activity{}
	}
	a := buf.Advance(now)
	if p.hold.Load() || p.waiting {
		return codec.Activity{}
	}
	return a
}

// Read implements mixer.Source; the room's PCM tap sees every frame read.
func (p *Participant) Read(f *codec.Frame) bool {
	if buf := p.buf.Load(); buf != nil && !p.hold.Load() && !p.waiting {
		ok := buf.Read(f)
		if r := p.in; ok && r.tap != nil {
			r.tap(p.id, r.now, f) // on the room's goroutine, which owns tap
		}
		return ok
	}
	return false
}

// PushRTP takes one RTP packet received from the peer (after SRTP, for WebRTC legs) and queues
// its audio for playout. It allocates nothing for a well-formed packet. A malformed packet is
// returned as an error, for the leg to count; nothing else changes. A leg that parses its
// packets itself hands them over with PushRTPPacket instead.
func (p *Participant) PushRTP(raw []byte, now time.Time) error {
	p.pktMu.Lock()
	defer p.pktMu.Unlock()
	if p.buf.Load() == nil {
		return nil
	}
	if err := p.pkt.Unmarshal(raw); err != nil {
		return err // the leg's to count, as it counts what it cannot parse itself
	}
	return p.push(&p.pkt.Header, p.pkt.Payload, now)
}

// PushRTPPacket is PushRTP for a packet the leg has parsed already (issue 9 item 3: typed RTP at
// the leg boundary, as pion's rtp.Packet gives it): its header and its payload without padding,
// both valid during the call only. The packet is parsed once, by the leg, which reads what it
// needs of the header itself (an IVR's telephone-events, a payload type); nothing is allocated.
func (p *Participant) PushRTPPacket(h *rtp.Header, payload []byte, now time.Time) error {
	p.pktMu.Lock()
	defer p.pktMu.Unlock()
	return p.push(h, payload, now)
}

// push queues one parsed packet's audio for playout; pktMu is held.
func (p *Participant) push(h *rtp.Header, payload []byte, now time.Time) error {
	buf := p.buf.Load()
	if buf == nil {
		return nil
	}
	jp := jitter.Packet{
		PayloadType: h.PayloadType, SequenceNumber: h.SequenceNumber, Timestamp: h.Timestamp,
		Marker: h.Marker, SSRC: h.SSRC, Payload: payload,
	}
	if id := p.info.LevelExtensionID; id != 0 && h.Extension {
		if ext := h.GetExtension(id); len(ext) > 0 {
			// RFC 6464 section 3: V flag, then the level as -dBov in 7 bits.
			jp.HasLevel, jp.Voice, jp.Level = true, ext[0]&0x80 != 0, -codec.Level(ext[0]&0x7F)
		}
	}
	p.lastMedia.Store(now.UnixNano())
	err := buf.Push(jp, now)
	if err == nil {
		// The statistics see the packets the buffer takes as the stream's: the same rules decide.
		p.recv.Observe(h.SSRC, h.SequenceNumber, h.Timestamp, p.audioClock(h.PayloadType), now)
	}
	return err
}

// audioClock returns the RTP clock of payload type pt when it is audio, and 0 for any other type
// (telephone-event, comfort noise, one not negotiated): the receive statistics time audio alone.
func (p *Participant) audioClock(pt uint8) int {
	for _, t := range p.input {
		if t.Type == pt && t.Kind == jitter.Audio {
			return t.Clock()
		}
	}
	return 0
}

// PushRTCP takes one RTCP packet from the peer: its loss report about confd's stream sets the
// expected loss of this participant's Opus encoder (so FEC is sent when it helps), and its
// sender report is remembered for the next receiver report.
func (p *Participant) PushRTCP(raw []byte, now time.Time) error {
	rep, err := ParseRTCP(raw, p.sender.SSRC())
	if err != nil {
		return err // the leg's to count (sipleg.MediaStats.Malformed, webrtcleg.CallStats.RTCPBad)
	}
	p.peerReport(rep, now)
	return nil
}

// PushRTCPPackets is PushRTCP for packets the leg has parsed already (a WebRTC leg: pion reads
// RTCP as packets), so that they are not marshalled only to be parsed again.
func (p *Participant) PushRTCPPackets(pkts []rtcp.Packet, now time.Time) {
	p.peerReport(ReadRTCP(pkts, p.sender.SSRC()), now)
}

// peerReport applies what the peer's RTCP says (PushRTCP).
func (p *Participant) peerReport(rep PeerReport, now time.Time) {
	if rep.HasSR {
		p.recv.OnSenderReport(rep.SRNTPTime, now)
	}
	if rep.HasLoss {
		loss := ExpectedLossPercent(rep.FractionLost)
		if p.lossAsked.Swap(int32(loss)) == int32(loss) {
			return
		}
		p.ownLater(func(r *Room) {
			if f := p.output; f.Codec == codec.Opus && f.ExpectedLoss != loss && !p.left.Load() {
				f.ExpectedLoss = loss
				if err := r.mix.SetFormat(p.mid, f); err == nil {
					p.output = f
				} else {
					p.lossAsked.Store(int32(p.output.ExpectedLoss)) // ask again on the next report
				}
			}
		})
	}
}

// LastMedia returns when the last RTP packet arrived (or when the participant joined).
func (p *Participant) LastMedia() time.Time { return time.Unix(0, p.lastMedia.Load()) }

// OnHold reports whether the peer has put the call on hold.
func (p *Participant) OnHold() bool { return p.hold.Load() }

// SetHold puts the participant on hold (RFC 3264 section 8.4: sendonly or inactive), where it
// is neither mixed nor sent audio, or takes it off hold.
func (p *Participant) SetHold(hold bool) { p.hold.Store(hold) }

// SetMedia changes the participant's negotiated media mid-call (a re-INVITE that changed codec
// or payload types): a new jitter buffer for the new input and a new encoding for its output.
// The room's owner changes the output first; a refused output changes nothing (the new input's
// buffer and event receiver are made beforehand but installed only after). The input is then
// swapped under pktMu alone, so that a packet being pushed (a *6, say, which is a change for the
// owner) never waits for the room while the room waits for it.
func (p *Participant) SetMedia(output codec.Format, outputPT uint8, input []jitter.PayloadType) error {
	var (
		buf *jitter.Buffer
		rx  *dtmf.Receiver
	)
	if len(input) > 0 {
		var err error
		if buf, rx, err = p.newBuffer(input); err != nil {
			return err
		}
	}
	var err error
	inputCodec := audioCodec(input)
	p.own(func(r *Room) {
		if e := r.mix.SetFormat(p.mid, output); e != nil {
			err = fmt.Errorf("%w: %w", ErrBadSetting, e)
			return
		}
		p.output, p.outputPT, p.inputCodec = output, outputPT, inputCodec
		p.lossAsked.Store(int32(output.ExpectedLoss))
		p.sender.SetPayloadType(outputPT)
		p.outClock.Store(int32(output.Codec.ClockRate()))
		p.refresh(r)
	})
	if err != nil {
		return err
	}
	p.pktMu.Lock()
	p.input = input
	p.buf.Store(buf)
	p.events = rx
	p.digitPending.Store(false) // a digit open in the old receiver is dropped with it
	p.pktMu.Unlock()
	return nil
}

// sendTick sends this tick's packet to the participant, on the room's goroutine.
func (p *Participant) sendTick(r *Room, due time.Time) {
	if p.output.Codec == 0 || p.left.Load() {
		return
	}
	out := r.mix.Output(p.mid)
	if !out.Due {
		return
	}
	if p.moved.pending {
		p.moved.resume(p, due) // the first packet after a move or a hand-over keeps the RTP clock in step
	}
	payload := out.Payload
	if p.hold.Load() {
		payload = nil // on hold: nothing is sent, the timestamp keeps time
	}
	if p.typed != nil {
		if h, ok := p.sender.Next(payload, out.Marker, int(out.TimestampStep), due); ok {
			p.typed.SendRTPHeader(h, payload)
		}
		return
	}
	n, err := p.sender.Packet(r.pkt[:], payload, out.Marker, int(out.TimestampStep), due)
	if err == nil && n > 0 {
		p.leg.SendRTP(r.pkt[:n])
	}
}

// Hangup asks the participant's leg to end the call.
func (p *Participant) Hangup(reason string) { p.leg.Hangup(reason) }

// Leave takes the participant out of its room; the leg calls it when the call has ended, for
// whatever reason. It is safe to call more than once.
func (p *Participant) Leave(reason string) {
	p.leaveOnce.Do(func() {
		p.left.Store(true)
		var r *Room
		// The last one out: the room's goroutine stops after this change and forgets an
		// ad-hoc room.
		p.own(func(owner *Room) {
			r = owner
			r.remove(p)
			if !p.Internal() {
				r.b.bus.Publish(p.departureEvent(r, reason))
			}
			r.finishIfEmpty()
			r.moderatorLeft(p)
			r.announceDeparture(p)
		})
		r.b.log.Info("left", "room", r.name, "id", p.id, "reason", reason)
	})
}

// refresh publishes the participant's rules and codec for readers; the room's owner calls it
// after changing them.
func (p *Participant) refresh(r *Room) {
	role, target, _ := r.mix.Role(p.mid)
	v := &partView{codec: p.shownCodec(),
		rules:     mixer.Rules{Muted: r.mix.Muted(p.mid), Deaf: r.mix.Deaf(p.mid), Role: role, Target: target},
		pan:       r.mix.Pan(p.mid),
		moderator: p.moderator, waiting: p.waiting, behind: p.behind.People}
	if role == mixer.RoleCoach {
		if q, ok := r.byMixID[target]; ok {
			v.target = q.id
		}
	}
	p.view.Store(v)
}

// State describes the participant as the API shows it, from what the room's owner last
// published; it never waits for the room.
func (p *Participant) State() ParticipantState {
	v := p.view.Load()
	if v == nil {
		v = &partView{}
	}
	return ParticipantState{
		ID: p.id, Name: p.info.Name, From: p.info.From, Kind: p.info.Kind,
		Codec: v.codec, Role: v.rules.Role.String(), Target: v.target,
		Muted: v.rules.Muted, Deaf: v.rules.Deaf, Moderator: v.moderator, Waiting: v.waiting, OnHold: p.hold.Load(),
		Talking: p.talkingNow.Load(), LevelDBov: float64(p.level.Load()), JoinedAt: p.joinedAt,
		Pan:     v.pan,
		Denoise: p.pp.denoiseOn.Load(), AGC: p.pp.agcOn.Load(),
		Cascade: p.info.Cascade != "", Node: p.info.Cascade, People: v.behind,
	}
}

// codecClock returns the RTP clock of the audio codec among input, 0 for none: the clock on which
// a telephone-event stream's timestamps may run when its own differs (dtmf.ReceiverConfig).
func codecClock(input []jitter.PayloadType) int {
	for _, t := range input {
		if t.Kind == jitter.Audio {
			return t.Clock()
		}
	}
	return 0
}

// audioCodec names the audio codec among input, "" for none.
func audioCodec(input []jitter.PayloadType) string {
	for _, t := range input {
		if t.Kind == jitter.Audio {
			return t.Codec.String()
		}
	}
	return ""
}
