package sipleg

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"

	"confd/bridge"
	"confd/codec"
	"confd/prompts"
)

// ivr is the lobby of a call that must first say where it goes: a dial-in number (meeting
// number, then PIN) or a room with a PIN. It plays prompts to the caller on the call's own
// media socket and collects DTMF, from RFC 4733 events in the RTP (one digit per event, however
// many end packets repeat it) or from SIP INFO. It runs on a goroutine of its own until it
// joins the room or says goodbye.
type ivr struct {
	c      *call
	digits chan byte
	quit   chan struct{}
	once   sync.Once

	evPT      uint8
	haveEvent bool
	lastTS    uint32
}

func (c *call) startIVR() {
	res := c.result()
	v := &ivr{c: c, digits: make(chan byte, 64), quit: make(chan struct{})}
	if res.TelephoneEvent.Present() {
		v.evPT = res.TelephoneEvent.LocalPayloadType
	} else {
		v.evPT = 255 // no RFC 4733 stream: INFO only
	}
	c.ivr.Store(v)
	go v.run()
}

func (v *ivr) stop() { v.once.Do(func() { close(v.quit) }) }

// onRTP runs on the media reader: an RFC 4733 event packet yields its digit once, on the first
// packet of the event (a new RTP timestamp, RFC 4733 section 2.5.1.2).
func (v *ivr) onRTP(pkt []byte) {
	var h rtp.Header
	n, err := h.Unmarshal(pkt)
	if err != nil || h.PayloadType != v.evPT || len(pkt)-n < 4 {
		return
	}
	if v.haveEvent && h.Timestamp == v.lastTS {
		return
	}
	v.haveEvent, v.lastTS = true, h.Timestamp
	if d, ok := eventDigit(pkt[n]); ok {
		v.digit(d)
	}
}

// eventDigit maps an RFC 4733 section 3.2 DTMF event code to its digit.
func eventDigit(e byte) (byte, bool) {
	switch {
	case e <= 9:
		return '0' + e, true
	case e == 10:
		return '*', true
	case e == 11:
		return '#', true
	case e <= 15:
		return 'A' + e - 12, true
	}
	return 0, false
}

func (v *ivr) digit(d byte) {
	select {
	case v.digits <- d:
	default:
	}
}

var (
	errIVRQuit    = errors.New("ivr stopped")
	errIVRTimeout = errors.New("no digits")
)

// player sends prompts as RTP in the call's negotiated format, paced in real time.
type player struct {
	enc                 codec.Encoder
	sender              *bridge.RTPSender
	samples, rtpSamples int
	period              time.Duration
	pcm                 []int16
	out                 [codec.MaxPayloadSize]byte
	pkt                 [codec.MaxPayloadSize + 64]byte
}

func (v *ivr) run() {
	c := v.c
	res := c.result()
	f := res.SendFormat()
	enc, err := codec.NewEncoder(f)
	if err != nil {
		c.log.Warn("ivr encoder", "err", err)
		go c.hangup(c.s.ctx, "ivr failed")
		return
	}
	pl := &player{enc: enc, sender: bridge.NewRTPSender(res.PayloadType), samples: f.Samples(),
		rtpSamples: int(f.Normalized().PacketTime * time.Duration(res.Codec.ClockRate()) / time.Second),
		period:     f.Normalized().PacketTime}
	pl.pcm = make([]int16, pl.samples)
	room, pin, err := v.dialog(pl)
	if err != nil {
		if err != errIVRQuit {
			_ = v.play(pl, prompts.Goodbye)
			c.log.Info("ivr gave up", "err", err)
			go c.hangup(c.s.ctx, "ivr: "+err.Error())
		}
		return
	}
	_ = pin
	_ = v.play(pl, prompts.Joining)
	c.ivr.Store(nil)
	v.stop()
	if err := c.join(room); err != nil {
		c.log.Info("ivr join refused", "room", room, "err", err)
		go c.hangup(c.s.ctx, "refused")
	}
}

// dialog asks for the meeting number (dial-in numbers) and the PIN, each with up to IVRTries
// tries, and returns the room to join.
func (v *ivr) dialog(pl *player) (room, pin string, err error) {
	s := v.c.s
	room, pin = v.c.room, v.c.pin
	if v.c.dialIn {
		room = ""
		prompt := prompts.Welcome
		for range s.cfg.IVRTries {
			if err := v.play(pl, prompt); err != nil {
				return "", "", err
			}
			num, err := v.collect()
			if err == errIVRQuit {
				return "", "", err
			}
			prompt = prompts.InvalidMeeting
			if err != nil || s.isDialIn(num) {
				continue // a dial-in number never leads anywhere but here
			}
			settings, err := s.bridge.Admit(num)
			if err != nil {
				switch {
				case errors.Is(err, bridge.ErrRoomLocked):
					prompt = prompts.Locked
				case errors.Is(err, bridge.ErrRoomFull):
					prompt = prompts.Full
				}
				continue
			}
			room, pin = num, settings.PIN
			break
		}
		if room == "" {
			return "", "", errors.New("no valid meeting number")
		}
	}
	if pin == "" {
		return room, "", nil
	}
	prompt := prompts.EnterPIN
	for range s.cfg.IVRTries {
		if err := v.play(pl, prompt); err != nil {
			return "", "", err
		}
		got, err := v.collect()
		if err == errIVRQuit {
			return "", "", err
		}
		if err == nil && got == pin {
			return room, pin, nil
		}
		prompt = prompts.InvalidPIN
	}
	return "", "", errors.New("wrong PIN")
}

// collect reads digits up to '#', each within IVRDigitTimeout.
func (v *ivr) collect() (string, error) {
	var b strings.Builder
	t := time.NewTimer(v.c.s.cfg.IVRDigitTimeout)
	defer t.Stop()
	for {
		select {
		case <-v.quit:
			return "", errIVRQuit
		case <-t.C:
			if b.Len() > 0 {
				return b.String(), nil
			}
			return "", errIVRTimeout
		case d := <-v.digits:
			if d == '#' {
				if b.Len() == 0 {
					return "", errIVRTimeout
				}
				return b.String(), nil
			}
			if b.Len() < 64 {
				b.WriteByte(d)
			}
			t.Reset(v.c.s.cfg.IVRDigitTimeout)
		}
	}
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
