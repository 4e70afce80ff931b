package gophone

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"confd/bridge"
	"confd/codec"
	"confd/testkit"
	"confd/testkit/audiotest"
)

// maxCatchUp is how far behind its schedule a stalled sender still sends what is due.
const maxCatchUp = 200 * time.Millisecond

// Config describes one Phone. Every zero value is a documented default, so
// Config{Server: addr} is a PCMU phone named "phone" sending a 440 Hz tone.
type Config struct {
	// Server is confd's SIP address over UDP. Required.
	Server netip.AddrPort
	// User is the user part of the phone's From and Contact URIs. Default "phone".
	User string
	// Name is the display name in From (RFC 3261 section 20.20), which confd shows as the
	// participant's name. Default User.
	Name string
	// Codec is the only audio codec offered: codec.Opus, codec.PCMU or codec.PCMA. Default PCMU.
	Codec codec.Codec
	// ToneHz is the frequency of the sine the phone sends. Default 440.
	ToneHz float64
	// ToneAmplitude is the tone's peak, 0..1 of full scale. Default 0.15 (-16.5 dBFS): three
	// tones mixed stay under the mixer's soft limiter at -6 dBFS.
	ToneAmplitude float64
	// NoiseRMS adds white noise of this RMS (0..1 of full scale) under the tone, and ToneBursts
	// switches the tone on for 300 ms and off for 160 ms like syllables (a noise suppressor
	// takes a tone that never pauses for noise): a talker in a noisy room. Default none.
	NoiseRMS   float64
	ToneBursts bool
	// Timeout bounds each SIP transaction (Timer B of RFC 3261 section 17.1.1.2, shortened for
	// loopback). Default 5s.
	Timeout time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.User == "" {
		c.User = "phone"
	}
	if c.Name == "" {
		c.Name = c.User
	}
	if c.Codec == 0 {
		c.Codec = codec.PCMU
	}
	if c.ToneHz == 0 {
		c.ToneHz = 440
	}
	if c.ToneAmplitude == 0 {
		c.ToneAmplitude = 0.15
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	switch {
	case !c.Server.IsValid():
		return c, fmt.Errorf("%w: no server address", ErrBadConfig)
	case c.Codec != codec.Opus && c.Codec != codec.PCMU && c.Codec != codec.PCMA:
		return c, fmt.Errorf("%w: codec %s (Opus, PCMU or PCMA)", ErrBadConfig, c.Codec)
	case c.ToneHz < 0 || c.ToneHz >= float64(c.Codec.AudioRate())/2 || c.ToneAmplitude < 0 || c.ToneAmplitude > 1:
		return c, fmt.Errorf("%w: tone %g Hz at %g of full scale over %s", ErrBadConfig, c.ToneHz, c.ToneAmplitude, c.Codec)
	case strings.ContainsAny(c.User, "\"<>;@: \r\n") || strings.ContainsAny(c.Name, "\"<>\r\n"):
		return c, fmt.Errorf("%w: user %q or name %q holds a character SIP would need escaped", ErrBadConfig, c.User, c.Name)
	}
	return c, nil
}

// Phone is one SIP call into a confd room from loopback: a UA of its own (RFC 3261), and a
// media socket that sends the phone's tone every 20 ms (RFC 3550) and records what it receives
// on a Timeline. Its goroutines end with Close.
type Phone struct {
	cfg  Config
	room string

	ua     *UA
	dialog *Dialog
	media  *net.UDPConn
	heard  *Timeline
	// arrivals is what came when, for onsets (onset.go).
	arrivals arrivalLog
	ssrc     uint32
	remote   netip.AddrPort
	answerPT uint8

	sendTone   atomic.Bool
	sent, recv atomic.Uint64
	// stalls are the spans in which sendMedia ran behind its schedule by more than
	// sendStallAfter (its process starved): what confd mixed of this phone then has holes that
	// no rule made, so a window they touch witnesses nothing (see SendStalled).
	stallMu sync.Mutex
	stalls  []span

	stop    chan struct{}
	wg      sync.WaitGroup
	closeMu sync.Mutex
	closed  bool
}

// Call dials room on cfg.Server and returns the phone once the call is established (the 2xx
// acknowledged) and its tone is being sent. It returns ErrRefused (a *StatusError) for a final
// status of 300 or more, ErrTimeout when confd does not answer, ErrBadAnswer for an unusable
// SDP answer.
func Call(ctx context.Context, cfg Config, room string) (*Phone, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ua, err := NewUA(cfg.Server)
	if err != nil {
		return nil, err
	}
	mediaConn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		ua.Close()
		return nil, err
	}
	_ = mediaConn.SetReadBuffer(1 << 20)
	_ = testkit.StampArrivals(mediaConn) // best effort: without it, the read's time is used
	now := time.Now()
	p := &Phone{cfg: cfg, room: room, ua: ua, media: mediaConn, heard: NewTimeline(now),
		ssrc: binary.BigEndian.Uint32(randomBytes(4)), stop: make(chan struct{})}
	p.sendTone.Store(true)
	if err := p.invite(ctx, now); err != nil {
		p.shutdown()
		return nil, err
	}
	p.wg.Add(2)
	go p.readMedia()
	go p.sendMedia()
	return p, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// String names the phone by its user, tone and codec.
func (p *Phone) String() string {
	return fmt.Sprintf("phone(%s %gHz %s)", p.cfg.User, p.cfg.ToneHz, p.cfg.Codec)
}

// Config returns the configuration in force, defaults filled in.
func (p *Phone) Config() Config { return p.cfg }

// Heard returns what the phone received from from to to, as mono PCM at codec.SampleRate,
// silence where nothing arrived.
func (p *Phone) Heard(from, to time.Time) []int16 { return p.heard.Window(from, to) }

// HeardLevel returns the level in dBFS of the tone at freqHz in what the phone received from
// from to to (Timeline.Level).
func (p *Phone) HeardLevel(from, to time.Time, freqHz float64) float64 {
	return p.heard.Level(from, to, freqHz)
}

// Coverage returns the fraction of the span from from to to that arrived in packets.
func (p *Phone) Coverage(from, to time.Time) float64 { return p.heard.Coverage(from, to) }

// Packets returns how many RTP packets the phone has sent and received.
func (p *Phone) Packets() (sent, received uint64) { return p.sent.Load(), p.recv.Load() }

// SetTone turns the phone's tone on or off; off sends digital silence (packets keep flowing,
// as a phone's do).
func (p *Phone) SetTone(on bool) { p.sendTone.Store(on) }

// Ended is closed when the call has ended, by a BYE from either side.
func (p *Phone) Ended() <-chan struct{} { return p.dialog.Ended() }

// EndReason says how the call ended: "bye from confd", "hung up", or "" while it goes on.
func (p *Phone) EndReason() string { return p.dialog.EndReason() }

// invite places the call, within Config.Timeout, and takes the media address and payload type
// from the answer.
func (p *Phone) invite(ctx context.Context, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	mediaPort := p.media.LocalAddr().(*net.UDPAddr).Port
	d, err := p.ua.Invite(ctx, p.cfg.User, p.cfg.Name, p.room, Offer(now.UnixNano(), mediaPort, p.cfg.Codec))
	if err != nil {
		return err
	}
	remote, pts, err := AnswerMedia(d.Answer())
	if err != nil {
		return err
	}
	p.dialog, p.remote, p.answerPT = d, remote, PayloadType(p.cfg.Codec)
	if !slices.Contains(pts, p.answerPT) {
		return fmt.Errorf("%w: payload types %v, offered %d", ErrBadAnswer, pts, p.answerPT)
	}
	return nil
}

// Hangup sends BYE and waits for its final response, within Config.Timeout. It returns
// ErrEnded when confd had already ended the call.
func (p *Phone) Hangup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	return p.dialog.Bye(ctx)
}

// Close hangs up if the call goes on (bounded by Config.Timeout), stops the phone's
// goroutines and closes its sockets. It is safe to call more than once.
func (p *Phone) Close() error {
	var err error
	select {
	case <-p.dialog.Ended():
	default:
		err = p.Hangup(context.Background())
	}
	p.shutdown()
	return err
}

func (p *Phone) shutdown() {
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	close(p.stop)
	p.ua.Close()
	p.media.Close()
	p.wg.Wait()
}

// sendMedia sends one RTP packet of the tone (or of silence) every 20 ms on an absolute
// schedule, so the pace does not drift with the scheduler. After a stall (a starved process on
// a busy machine) it sends what is due at once, up to maxCatchUp behind, and skips the rest:
// confd's jitter buffer absorbs a short burst better than a gap.
func (p *Phone) sendMedia() {
	defer p.wg.Done()
	enc, err := codec.NewEncoder(codec.Format{Codec: p.cfg.Codec, NoDTX: true})
	if err != nil {
		return
	}
	tone := audiotest.NewTone(p.cfg.ToneHz, p.cfg.ToneAmplitude, codec.SampleRate)
	var pcm codec.Frame
	noisy, frames := newNoise(p.cfg.NoiseRMS), 0
	payload := make([]byte, codec.MaxPayloadSize)
	pkt := make([]byte, bridge.MaxPacketSize)
	remote, pt := p.remote, p.answerPT
	tsStep := uint32(p.cfg.Codec.ClockRate() / 50)
	h := rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: binary.BigEndian.Uint16(randomBytes(2)),
		Timestamp: binary.BigEndian.Uint32(randomBytes(4)), SSRC: p.ssrc, Marker: true}
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.dialog.Ended():
			return
		case <-timer.C:
		}
		if late := time.Since(next); late > sendStallAfter {
			p.stalled(next, time.Now())
		}
		tone.Fill(pcm[:]) // the phase runs on while silent, as a real source's would
		if !p.sendTone.Load() {
			pcm.Clear()
		}
		frames++
		noisy.add(&pcm, p.cfg.ToneBursts && frames%burstFrames >= burstOnFrames)
		n, err := enc.Encode(pcm[:], payload)
		if err == nil && n > 0 {
			hn, _ := h.MarshalTo(pkt)
			copy(pkt[hn:], payload[:n])
			if _, err := p.media.WriteToUDPAddrPort(pkt[:hn+n], remote); err == nil {
				p.sent.Add(1)
			}
			h.Marker = false
		}
		h.SequenceNumber++
		h.Timestamp += tsStep
		next = next.Add(codec.FrameDuration)
		if late := time.Since(next); late > maxCatchUp {
			next = time.Now().Add(-maxCatchUp)
		}
		timer.Reset(time.Until(next))
	}
}

// sendStallAfter is how late sendMedia may wake before the span counts as a stall: confd's
// jitter buffer rides out a packet or two late, not a run of them.
const sendStallAfter = 60 * time.Millisecond

// span is a stretch of time.
type span struct{ from, to time.Time }

// stalled records that the sender was behind its schedule from from to to, merging with the
// last span when they touch; the list keeps the last 256.
func (p *Phone) stalled(from, to time.Time) {
	processStalls.add(from, to)
	p.stallMu.Lock()
	defer p.stallMu.Unlock()
	if n := len(p.stalls); n > 0 && !from.After(p.stalls[n-1].to.Add(codec.FrameDuration)) {
		p.stalls[n-1].to = to
		return
	}
	if len(p.stalls) == 256 {
		p.stalls = append(p.stalls[:0], p.stalls[1:]...)
	}
	p.stalls = append(p.stalls, span{from, to})
}

// SendStalled reports whether the phone's own sending ran behind its schedule at any time from
// from to to (see sendStallAfter).
func (p *Phone) SendStalled(from, to time.Time) bool {
	p.stallMu.Lock()
	defer p.stallMu.Unlock()
	for _, s := range p.stalls {
		if s.from.Before(to) && s.to.After(from) {
			return true
		}
	}
	return false
}

// readMedia decodes every RTP packet of the answered payload type onto the Timeline; RTCP
// (multiplexed, RFC 5761 section 4) and anything else is ignored.
func (p *Phone) readMedia() {
	defer p.wg.Done()
	dec, err := codec.NewDecoder(p.cfg.Codec)
	if err != nil {
		return
	}
	pcm := make([]int16, codec.MaxPacketSamples)
	buf := make([]byte, 65535)
	oob := make([]byte, 128)
	var pkt rtp.Packet
	for {
		n, oobn, _, _, err := p.media.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		arrival, stamped := testkit.ArrivalTime(oob[:oobn])
		if !stamped {
			arrival = time.Now()
		}
		if n < 12 || (buf[1] >= 192 && buf[1] <= 223) || pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != p.answerPT {
			continue
		}
		p.recv.Add(1)
		samples, err := dec.Decode(pkt.Payload, pcm)
		if err != nil || samples == 0 {
			continue
		}
		p.heard.Add(arrival, pkt.SSRC, pkt.Timestamp, p.cfg.Codec.ClockRate(), pcm[:samples])
		p.arrivals.add(arrival, pcm[:samples])
	}
}
