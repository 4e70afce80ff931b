package sipleg

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"confd/bridge"
	"confd/codec"
	"confd/dtmf"
	"confd/internal/guard"
	"confd/prompts"
)

// ivr is the lobby of a call that must first say where it goes: a dial-in number (meeting
// number, then PIN) or a room with a PIN. It plays prompts to the caller on the call's own
// media socket and collects DTMF, from RFC 4733 events in the RTP (dtmf.Receiver: one digit per
// event however many end packets repeat it, and a digit whose end packets were all lost is
// still reported once) or from SIP INFO. It runs on a goroutine of its own until it joins the
// room or says goodbye.
type ivr struct {
	c      *call
	digits chan dtmf.Digit
	quit   chan struct{}
	once   sync.Once

	evPT uint8 // the telephone-event payload type confd receives; ignored when rx is nil

	rxMu sync.Mutex // the media reader pushes, the IVR goroutine expires
	rx   *dtmf.Receiver

	name atomic.Pointer[nameRecorder] // set while the caller says its name (name.go)
}

// prepareIVR makes the call's IVR, so that digits typed from now on are kept, without starting
// it: the INVITE handler does so once the offer is negotiated, because an INFO sent right
// after the ACK may be handled before the ACK is (sipgo runs each request on its own
// goroutine). It does nothing when the call needs no IVR or has one.
func (c *call) prepareIVR() {
	if !c.dialIn && c.pin == "" && c.modPIN == "" || c.ivr.Load() != nil || c.result() == nil {
		return
	}
	c.ivr.Store(c.newIVR())
}

// startIVR runs the call's IVR (made now if prepareIVR did not).
func (c *call) startIVR() {
	v := c.ivr.Load()
	if v == nil {
		v = c.newIVR()
		c.ivr.Store(v)
	}
	go v.run()
}

func (c *call) newIVR() *ivr {
	res := c.result()
	v := &ivr{c: c, digits: make(chan dtmf.Digit, 64), quit: make(chan struct{})}
	if te := res.TelephoneEvent; te.Present() {
		v.evPT = te.LocalPayloadType
		rx, err := dtmf.NewReceiver(dtmf.ReceiverConfig{ClockRate: te.ClockRate, TimestampRate: res.Codec.ClockRate()})
		if err != nil {
			c.log.Warn("ivr: no RFC 4733 receiver, INFO only", "err", err)
		}
		v.rx = rx
	}
	return v
}

func (v *ivr) stop() { v.once.Do(func() { close(v.quit) }) }

// onRTP runs on the media reader (call.onRTP parsed the packet): telephone-event packets go to the receiver; any other packet
// is a moment to report a digit whose end packets were all lost.
func (v *ivr) onRTP(h *rtp.Header, payload []byte, now time.Time) {
	if n := v.name.Load(); n != nil {
		n.push(h, payload)
	}
	if v.rx == nil {
		return
	}
	v.rxMu.Lock()
	defer v.rxMu.Unlock()
	if h.PayloadType != v.evPT {
		if d, ok := v.rx.Expire(now); ok {
			v.digit(d.Digit)
		}
		return
	}
	found, err := v.rx.Push(now, h.Timestamp, h.Marker, payload)
	if err != nil {
		return
	}
	for _, d := range found {
		v.digit(d.Digit)
	}
}

// expire reports a digit whose end packets were lost when no packet at all follows it (a
// phone that sends nothing between events).
func (v *ivr) expire(now time.Time) {
	if v.rx == nil {
		return
	}
	v.rxMu.Lock()
	d, ok := v.rx.Expire(now)
	v.rxMu.Unlock()
	if ok {
		v.digit(d.Digit)
	}
}

// digit queues one digit for collect; digits beyond the queue's room are dropped.
func (v *ivr) digit(d dtmf.Digit) {
	select {
	case v.digits <- d:
	default:
	}
}

var (
	errIVRQuit    = errors.New("ivr stopped")
	errIVRTimeout = errors.New("no digits")
	// errIVREmpty is '#' alone: no digits, on purpose (a room with only a moderator PIN
	// takes it as an ordinary participant's entry; elsewhere it is no guess, like silence).
	errIVREmpty = errors.New("an empty entry")
)

// ivrNumbersKey is the Attempts "room" of meeting-number guesses in the IVR.
const ivrNumbersKey = "ivr:meeting-number"

// player sends prompts as RTP in the call's negotiated format, paced in real time.
type player struct {
	enc                 codec.Encoder
	sender              *bridge.RTPSender
	samples, rtpSamples int
	clockRate           int // the RTP clock of the call's codec
	period              time.Duration
	pcm                 []int16
	out                 [codec.MaxPayloadSize]byte
	pkt                 [bridge.MaxPacketSize]byte
}

func (v *ivr) run() {
	c := v.c
	res := c.result()
	f := res.SendFormat()
	f.Stereo = false // prompts are mono
	enc, err := codec.NewEncoder(f)
	if err != nil {
		c.log.Warn("ivr encoder", "err", err)
		go c.hangup(c.s.ctx, "ivr failed")
		return
	}
	pl := &player{enc: enc, sender: bridge.NewRTPSender(res.PayloadType), samples: f.Samples(),
		rtpSamples: res.Codec.RTPUnits(f.Normalized().PacketTime), clockRate: res.Codec.ClockRate(),
		period: f.Normalized().PacketTime}
	pl.pcm = make([]int16, pl.samples)
	room, pin, err := v.dialog(pl)
	if err != nil {
		if err != errIVRQuit {
			_ = v.play(pl, farewellPrompt(err))
			c.log.Info("ivr gave up", "err", err)
			go c.hangup(c.s.ctx, "ivr: "+err.Error())
		}
		return
	}
	_ = pin
	if c.wantsName(room) && v.recordName(pl) != nil {
		return // the caller hung up
	}
	_ = v.play(pl, prompts.Joining)
	c.ivr.Store(nil)
	v.stop()
	// The room goes on with the prompts' stream, unless a re-INVITE changed the codec's clock
	// meanwhile: one SSRC keeps one RTP clock (RFC 7160 section 4.1), and its timestamps could
	// not be carried over.
	var stream *bridge.RTPSender
	if c.result().Codec.ClockRate() == pl.clockRate {
		stream = pl.sender
	}
	if err := c.join(room, stream); err != nil {
		c.log.Info("ivr join refused", "room", room, "err", err)
		go c.hangup(c.s.ctx, "refused")
	}
}

// dialog asks for the meeting number (dial-in numbers) and the PIN, each with up to IVRTries
// tries, and returns the room to join.
func (v *ivr) dialog(pl *player) (room, pin string, err error) {
	s := v.c.s
	room, pin = v.c.room, v.c.pin
	modPIN := v.c.modPIN
	if v.c.dialIn {
		room = ""
		prompt := prompts.Welcome
		who := v.c.attemptKey()
		for range s.cfg.IVRTries {
			num, err := v.ask(pl, who, ivrNumbersKey, prompt)
			if err != nil && !unanswered(err) {
				return "", "", err
			}
			prompt = prompts.InvalidMeeting
			if err != nil {
				continue
			}
			if s.isDialIn(num) {
				s.cfg.Attempts.Fail(who, ivrNumbersKey, time.Now())
				continue // a dial-in number never leads anywhere but here
			}
			settings, err := s.bridge.Admit(num)
			if err != nil {
				if errors.Is(err, bridge.ErrBadRoomName) {
					s.cfg.Attempts.Fail(who, ivrNumbersKey, time.Now())
				}
				var final bool
				if prompt, final = meetingRefusalPrompt(err); final {
					return "", "", err // run says farewellPrompt's words
				}
				continue
			}
			room, pin, modPIN = num, settings.PIN, settings.ModeratorPIN
			if v.c.trustedModerator(settings) {
				// It skips the PIN because it is a moderator: say so, as moderatorSettings does
				// for a direct call (red team, issue 13: it joined as an ordinary participant).
				pin, modPIN = "", ""
				v.c.moderator.Store(true)
			}
			break
		}
		if room == "" {
			return "", "", errors.New("no valid meeting number")
		}
	}
	if pin == "" && modPIN == "" {
		return room, "", nil
	}
	who := v.c.attemptKey()
	prompt := prompts.EnterPIN
	for range s.cfg.IVRTries {
		got, err := v.ask(pl, who, room, prompt)
		switch {
		case err == errIVREmpty && pin == "":
			return room, "", nil // a room with only a moderator PIN: an ordinary participant
		case unanswered(err):
			prompt = prompts.InvalidPIN
			continue // silence is no guess
		case err != nil:
			return "", "", err
		}
		// One step: refused unchecked if the source was locked out meanwhile (another call of
		// the same source), else compared and counted. The moderator PIN, when typed, is the
		// secret compared (whether it was is the caller's to know: it typed it).
		secret, moderator := bridge.PINToCheck(pin, modPIN, got, true)
		switch err := s.cfg.Attempts.Check(who, room, got, secret, time.Now()); {
		case err == nil:
			v.c.moderator.Store(moderator)
			return room, got, nil
		case !errors.Is(err, guard.ErrWrongSecret):
			return "", "", err
		}
		prompt = prompts.InvalidPIN
	}
	return "", "", errors.New("wrong PIN")
}

// attemptKey is who the PIN attempts of this call count against (guard.Attempts): the source
// address, and for a trunk also the caller (From user), so that one PSTN caller cannot lock
// out everyone behind the trunk.
func (c *call) attemptKey() string { return c.s.gate.Auth.AttemptKey(c.peer, c.fromUser) }

// collect reads one entry (dtmf.Collector): digits up to '#', each within IVRDigitTimeout;
// an entry that times out after some digits is taken as it is. It returns errIVRTimeout when
// nothing was typed and errIVREmpty for '#' alone.
// ask is one turn of an IVR question about key's secret (a meeting number, a room's PIN): a
// caller locked out for guessing is told goodbye before it can type, and its digits are never
// compared (issue 8: the shared guard.Attempts counts every leg's tries); else the prompt plays
// and the caller's keys are collected. An error for which unanswered is false ends the dialog.
func (v *ivr) ask(pl *player, who, key, prompt string) (string, error) {
	if err := v.c.s.cfg.Attempts.Allow(who, key, time.Now()); err != nil {
		return "", err
	}
	if err := v.play(pl, prompt); err != nil {
		return "", err
	}
	return v.collect()
}

// unanswered reports whether an error of ask leaves the question open for another try: no keys
// in time, or only '#'.
func unanswered(err error) bool { return err == errIVRTimeout || err == errIVREmpty }

func (v *ivr) collect() (string, error) {
	t := v.c.s.cfg.IVRDigitTimeout
	col, err := dtmf.NewCollector(dtmf.CollectorConfig{MaxDigits: 64, FirstDigitTimeout: t, InterDigitTimeout: t,
		OverallTimeout: -1}, time.Now())
	if err != nil {
		return "", err
	}
	// Lost end packets are looked for twice per receiver timeout.
	poll := time.NewTicker(dtmf.DefaultEndTimeout / 2)
	defer poll.Stop()
	for col.Status() == dtmf.Collecting {
		wait := time.Until(col.Deadline())
		timer := time.NewTimer(max(wait, 0))
		select {
		case <-v.quit:
			timer.Stop()
			return "", errIVRQuit
		case <-timer.C:
			col.Check(time.Now())
		case now := <-poll.C:
			v.expire(now)
		case d := <-v.digits:
			col.Add(d, time.Now())
		}
		timer.Stop()
	}
	if col.Len() == 0 {
		if col.Status() == dtmf.Terminated {
			return "", errIVREmpty
		}
		return "", errIVRTimeout
	}
	return col.Digits(), nil
}

// play sends one prompt, paced at the packet time; digits typed meanwhile are kept
// (barge-in), so that a caller who knows the prompts need not wait.
func (v *ivr) play(pl *player, name string) error {
	pcm, err := prompts.Get(name)
	if err != nil {
		return nil // a missing prompt is silence, not a failed call
	}
	tick := time.NewTicker(pl.period)
	defer tick.Stop()
	pl.sender.Resume(time.Now(), pl.clockRate) // the pause before the prompt kept time
	for off := 0; off < len(pcm); off += pl.samples {
		chunk := pl.pcm
		n := copy(chunk, pcm[off:])
		clear(chunk[n:])
		if pn, err := pl.enc.Encode(chunk, pl.out[:]); err == nil {
			if k, err := pl.sender.Packet(pl.pkt[:], pl.out[:pn], off == 0, pl.rtpSamples, time.Now()); err == nil && k > 0 {
				v.c.media.SendRTP(pl.pkt[:k])
			}
		}
		select {
		case <-v.quit:
			return errIVRQuit
		case <-tick.C:
		}
	}
	return nil
}
