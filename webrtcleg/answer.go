package webrtcleg

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/codec"
	"confd/internal/guard"
	"confd/jitter"
	"confd/sdpneg"
)

// JoinInfo describes who is joining through an offer.
type JoinInfo struct {
	// Name is the display name (WHIP/WHEP ?name=, the SIP From display name); From is the
	// caller's URI or address.
	Name, From string
	// Listen makes the call a WHEP listener: confd only sends the room's mix and never reads
	// the peer's audio, whatever direction the offer asks for.
	Listen bool
	// OnDigit, when set, receives every DTMF digit of the participant (the SIP side's PIN
	// prompt), as bridge.ParticipantInfo.OnDigit.
	OnDigit func(digit byte)
	// Moderator joins the participant as a moderator (its bearer token was the room's
	// moderator PIN).
	Moderator bool
	// Kind names the signalling in logs and resource checks: "whip", "whep" or "sip". Empty
	// means "sip".
	Kind string
	// Remote is the signalling peer's address ("host:port"): the source that Config's session
	// caps count the call against. Empty means the caller bounds its calls itself.
	Remote string

	held bool // join on hold (the benchmarks drive the send path themselves)
}

// offerAudio is what confd needs to know of an offer's audio before pion reads it.
type offerAudio struct {
	direction sdpneg.Direction // the offerer's direction
	stereo    bool             // the offer's Opus fmtp says stereo=1: its decoder takes stereo (RFC 7587)
}

// checkOffer validates an offer the way its errors are reported (RFC 8866 syntax, a first
// audio m-line that is DTLS-SRTP, by sdpneg's rule, with Opus) and returns that audio's
// direction.
func checkOffer(offer string) (offerAudio, error) {
	a, err := sdpneg.ReadAudio([]byte(offer))
	switch {
	case errors.Is(err, sdpneg.ErrNoAudio):
		return offerAudio{}, fmt.Errorf("%w: no audio m-line", ErrNoAudio)
	case err != nil:
		return offerAudio{}, fmt.Errorf("%w: %w", ErrBadOffer, err)
	case !a.WebRTC:
		return offerAudio{}, fmt.Errorf("%w: audio is %s", ErrNotWebRTC, a.Profile)
	}
	opus, ok := a.Opus()
	if !ok {
		return offerAudio{}, ErrNoOpus
	}
	if a.Direction == sdpneg.Inactive {
		return offerAudio{}, fmt.Errorf("%w: audio is inactive", ErrNoAudio)
	}
	return offerAudio{direction: a.Direction, stereo: sdpneg.ParseOpusParams(opus.Fmtp).Stereo}, nil
}

// answerAudio is what the answer negotiated for the first audio section.
type answerAudio struct {
	direction sdpneg.Direction // confd's direction
	opusPT    uint8
	events    []jitter.PayloadType // telephone-event payload types
	levelID   uint8                // RFC 6464 extension id, or 0
}

// readAnswer reads what pion's answer settled for the first audio m-line.
func readAnswer(answer string) (answerAudio, error) {
	a, err := sdpneg.ReadAudio([]byte(answer))
	if errors.Is(err, sdpneg.ErrNoAudio) {
		return answerAudio{}, fmt.Errorf("%w: the answer rejected the audio", ErrNoAudio)
	} else if err != nil {
		return answerAudio{}, err
	}
	opus, ok := a.Opus()
	if !ok {
		return answerAudio{}, ErrNoOpus
	}
	aa := answerAudio{direction: a.Direction, opusPT: opus.Type}
	for _, p := range a.Formats {
		if p.IsTelephoneEvent() {
			aa.events = append(aa.events, jitter.PayloadType{Type: p.Type, Kind: jitter.TelephoneEvent, ClockRate: p.ClockRate})
		}
	}
	if id := a.ExtensionID(sdp.AudioLevelURI); id <= 14 {
		aa.levelID = id // one-byte header form only (RFC 8285 section 4.2)
	}
	return aa, nil
}

// Answer answers a WebRTC offer with a PeerConnection that joins room once it is connected: the
// WHIP and WHEP handlers call it, and so does the SIP side for an INVITE over WebSocket whose SDP
// is a WebRTC offer (sdpneg.ErrWebRTCOffer). The answer carries every candidate (gathering
// completes first, no trickle), Opus with useinbandfec=1;usedtx=1 and the RFC 6464 audio level
// extension if offered. Of the offer's candidates only Config.MaxCandidates usable ones are
// checked (see limitCandidates).
//
// The participant joins the room only once ICE and DTLS are up (RFC 8827 section 6.5: nothing
// is sent or heard before), so an offerer that never connects is never in the roster; if they
// are not up within Config.ConnectTimeout, or fail later, the call closes with everything it
// holds and Done closes. The caller has checked the room's PIN. When info.Remote is set the
// call counts against Config.SessionsPerSource and MaxSessions, checked before anything is
// allocated. Errors: ErrBadOffer, ErrNotWebRTC, ErrNoAudio, ErrNoOpus, ErrGathering, ErrClosed,
// the bridge's ErrBadRoomName, ErrRoomLocked, ErrRoomFull, ErrDraining, and a *guard.Refusal
// (guard.ErrRateLimited, ErrSourceBusy, ErrFull) with its Retry-After.
func (s *Server) Answer(ctx context.Context, room, offer string, info JoinInfo) (string, *Call, error) {
	return s.answer(ctx, room, offer, info, nil)
}

// answer is Answer with a verdict (the WHIP/WHEP PIN check) that is asked only once the whole
// offer has been found valid, pion's reading of it included, and before anything is sent: a
// bad offer is answered the same whatever the PIN.
func (s *Server) answer(ctx context.Context, room, offer string, info JoinInfo, verdict func() error) (string, *Call, error) {
	info.Kind = cmp.Or(info.Kind, "sip")
	oa, offer, err := s.admitOffer(room, offer, info)
	if err != nil {
		return "", nil, err
	}
	c, err := s.newCall(room, info)
	if err != nil {
		return "", nil, err
	}
	local, aa, err := c.negotiate(ctx, offer, oa, info.Listen, verdict)
	if err != nil {
		c.end("refused")
		<-c.done
		return "", nil, err
	}
	c.info = participantInfo(info, oa, aa)
	if c.sender != nil && c.info.Output.Codec != 0 {
		// The room writes the SSRC of the answer (pion's sender's) itself: what the browser
		// receives, what confd's reports say and what the browser's reports are about are one
		// stream, with nothing to translate on the way out or in.
		if enc := c.sender.GetParameters().Encodings; len(enc) > 0 {
			c.info.Stream = bridge.NewRTPSenderWithSSRC(c.info.OutputPT, uint32(enc[0].SSRC))
		}
	}
	c.armConnectTimeout()
	s.stats.answered.Add(1)
	s.log.Info("webrtc call answered", "room", room, "call", c.id, "kind", info.Kind,
		"direction", aa.direction.String(), "level_ext", aa.levelID)
	return local, c, nil
}

// admitOffer is the first step of an answer, before anything is allocated: the room must take
// a participant and the offer must be one confd can answer. It returns the offer's audio and
// the offer with its remote candidates cut to Config.MaxCandidates.
func (s *Server) admitOffer(room, offer string, info JoinInfo) (offerAudio, string, error) {
	if _, err := s.b.Admit(room); err != nil {
		return offerAudio{}, "", err
	}
	oa, err := checkOffer(offer)
	if err != nil {
		return offerAudio{}, "", err
	}
	if info.Listen && !oa.direction.Receives() {
		return offerAudio{}, "", fmt.Errorf("%w: a WHEP offer must receive audio (it is sendonly)", ErrNoAudio)
	}
	offer, dropped := limitCandidates(offer, s.cfg.maxCandidates())
	if dropped > 0 {
		s.log.Debug("remote ICE candidates dropped", "room", room, "kind", info.Kind, "dropped", dropped)
	}
	return oa, offer, nil
}

// newCall takes the source's admission (when info.Remote is set) and makes the call's
// PeerConnection, giving both back if the call cannot be made.
func (s *Server) newCall(room string, info JoinInfo) (*Call, error) {
	release := func() {}
	if info.Remote != "" {
		src := guard.SourceAddr(info.Remote)
		if err := s.admission.Acquire(src, time.Now()); err != nil {
			return nil, err
		}
		release = func() { s.admission.Release(src) }
	}
	pc, err := s.newPeerConnection()
	if err != nil {
		release()
		return nil, fmt.Errorf("webrtcleg: new peer connection: %w", err)
	}
	c := &Call{s: s, id: newResourceID(), room: room, kind: info.Kind, pc: pc, release: release, held: info.held,
		joined: make(chan struct{}), done: make(chan struct{})}
	if err := s.add(c); err != nil {
		_ = pc.Close()
		release()
		return nil, err
	}
	return c, nil
}

// negotiate answers the offer on c's PeerConnection and gathers every candidate (no trickle).
// verdict, when set, is asked once pion has read the whole offer and before anything is sent.
func (c *Call) negotiate(ctx context.Context, offer string, oa offerAudio, listen bool, verdict func() error) (string, answerAudio, error) {
	pc := c.pc
	// The transceiver is made before the offer is read so that pion pairs it with the offer's
	// audio and answers with the direction confd wants (JSEP, RFC 8829 section 5.3.1).
	var dir webrtc.RTPTransceiverDirection
	switch {
	case listen || oa.direction == sdpneg.RecvOnly:
		dir = webrtc.RTPTransceiverDirectionSendonly
	case oa.direction == sdpneg.SendRecv:
		dir = webrtc.RTPTransceiverDirectionSendrecv
	}
	if dir != 0 {
		c.track = newAudioTrack(c.id)
		tr, err := pc.AddTransceiverFromTrack(c.track, webrtc.RTPTransceiverInit{Direction: dir})
		if err != nil {
			return "", answerAudio{}, fmt.Errorf("webrtcleg: add transceiver: %w", err)
		}
		c.sender = tr.Sender()
	}
	pc.OnConnectionStateChange(c.onConnectionState)
	if !listen {
		pc.OnTrack(c.onTrack)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", answerAudio{}, fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", answerAudio{}, fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	if verdict != nil {
		if err := verdict(); err != nil {
			return "", answerAudio{}, err
		}
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", answerAudio{}, fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	timeout := time.NewTimer(c.s.cfg.gatherTimeout())
	defer timeout.Stop()
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", answerAudio{}, fmt.Errorf("%w: %w", ErrGathering, ctx.Err())
	case <-timeout.C:
		return "", answerAudio{}, ErrGathering
	}
	local := pc.LocalDescription().SDP
	aa, err := readAnswer(local)
	if err != nil {
		return "", answerAudio{}, err
	}
	return withOpusFmtp(local, aa.opusPT, oa.stereo), aa, nil
}

// participantInfo is what the call's participant will be once it joins: what confd sends
// (Opus, stereo when the offer asked for it) and what it reads, as the answer settled them.
func participantInfo(info JoinInfo, oa offerAudio, aa answerAudio) bridge.ParticipantInfo {
	p := bridge.ParticipantInfo{Name: info.Name, From: info.From, Kind: bridge.KindWebRTC, OnDigit: info.OnDigit, Moderator: info.Moderator}
	if aa.direction.Sends() {
		p.Output, p.OutputPT = codec.Format{Codec: codec.Opus, Stereo: oa.stereo}, aa.opusPT
	}
	if !info.Listen && aa.direction.Receives() {
		p.Input = append([]jitter.PayloadType{{Type: aa.opusPT, Codec: codec.Opus}}, aa.events...)
		p.LevelExtensionID = aa.levelID
	}
	return p
}

// armConnectTimeout marks c answered and gives ICE and DTLS Config.ConnectTimeout to come up;
// if they came up before the answer was complete, c joins now.
func (c *Call) armConnectTimeout() {
	c.mu.Lock()
	c.answered = true
	if !c.closing {
		c.timer = time.AfterFunc(c.s.cfg.connectTimeout(), func() {
			if c.Participant() == nil {
				c.end("ice or dtls timed out")
			}
		})
	}
	connected := c.connectedEarly
	c.mu.Unlock()
	if connected {
		c.join()
	}
}

// withOpusFmtp makes the answer's Opus fmtp ask for in-band FEC and DTX (RFC 7587 section 6.1):
// pion copies the offer's parameters (a browser offers useinbandfec=1 without usedtx) and refuses
// a changed local description, so the answer is changed on its way out: fmtp only tells the
// peer what confd prefers to receive and changes nothing in pion. For the same reason a stereo=1
// that pion copied from the offer is taken out (confd decodes mono, so a publisher need not
// spend bits on stereo), and sprop-stereo=1 says that confd may send stereo when the offer asked
// for it (stereo): Chromium decodes stereo by its own offer's stereo=1.
func withOpusFmtp(answer string, pt uint8, stereo bool) string {
	prefix := "a=fmtp:" + strconv.Itoa(int(pt)) + " "
	ours := []string{"useinbandfec=1", "usedtx=1"}
	if stereo {
		ours = append(ours, "sprop-stereo=1")
	}
	lines := strings.SplitAfter(answer, "\n") // each keeps its line end, CRLF or a bare LF
	found := false
	for i, l := range lines {
		text, end := cutLineEnd(l)
		params, ok := strings.CutPrefix(text, prefix)
		if !ok {
			continue
		}
		found = true
		var kept []string
		for _, kv := range strings.Split(params, ";") {
			k, _, _ := strings.Cut(strings.TrimSpace(kv), "=")
			switch k {
			case "", "useinbandfec", "usedtx", "stereo", "sprop-stereo":
			default:
				kept = append(kept, strings.TrimSpace(kv))
			}
		}
		lines[i] = prefix + strings.Join(append(kept, ours...), ";") + end
	}
	if !found {
		for i, l := range lines {
			text, end := cutLineEnd(l)
			if strings.HasPrefix(text, "a=rtpmap:"+strconv.Itoa(int(pt))+" ") {
				if end == "" { // the last line, without a line end
					lines[i], end = text+"\r\n", ""
				}
				lines = slices.Insert(lines, i+1, prefix+strings.Join(ours, ";")+end)
				break
			}
		}
	}
	return strings.Join(lines, "")
}

// cutLineEnd splits a line of strings.SplitAfter(s, "\n") into its text and its line end.
func cutLineEnd(l string) (text, end string) {
	if t, ok := strings.CutSuffix(l, "\r\n"); ok {
		return t, "\r\n"
	}
	if t, ok := strings.CutSuffix(l, "\n"); ok {
		return t, "\n"
	}
	return l, ""
}

// newResourceID returns 128 random bits in hex: a WHIP resource URL is its own capability.
func newResourceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
