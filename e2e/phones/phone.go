package phones

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
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

	"confd/codec"
	"confd/internal/audiotest"
)

// sipT1 is RFC 3261's round-trip estimate: a request over UDP is sent again after T1, then
// after doubling intervals (section 17.1.1.2).
const sipT1 = 500 * time.Millisecond

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

// Phone is one SIP call into a confd room from loopback: a user agent client over its own UDP
// socket (RFC 3261), and a media socket that sends the phone's tone every 20 ms (RFC 3550) and
// records what it receives on a Timeline. Its goroutines end with Close.
type Phone struct {
	cfg  Config
	room string

	sip   *net.UDPConn
	media *net.UDPConn
	local netip.AddrPort // the SIP socket's address, for Via and Contact
	heard *Timeline
	// arrivals is what came when, for onsets (onset.go).
	arrivals arrivalLog
	ssrc     uint32
	callID   string
	tag      string

	// The dialog, set once the INVITE's 2xx arrived.
	mu         sync.Mutex
	toTag      string
	target     string // the 2xx's Contact: where in-dialog requests go
	ack        []byte // resent for every retransmitted 2xx (RFC 3261 section 13.2.2.4)
	cseq       int
	remote     netip.AddrPort
	answerPT   uint8
	responses  chan sipMessage
	endReason  string
	ended      chan struct{}
	endOnce    sync.Once
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
// acknowledged) and its tone is being sent. It returns ErrRefused for a final status of 300 or
// more, ErrTimeout when confd does not answer, ErrBadAnswer for an unusable SDP answer.
func Call(ctx context.Context, cfg Config, room string) (*Phone, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	loopback := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	sipConn, err := net.ListenUDP("udp4", loopback)
	if err != nil {
		return nil, err
	}
	mediaConn, err := net.ListenUDP("udp4", loopback)
	if err != nil {
		sipConn.Close()
		return nil, err
	}
	_ = mediaConn.SetReadBuffer(1 << 20)
	stampArrivals(mediaConn)
	now := time.Now()
	p := &Phone{cfg: cfg, room: room, sip: sipConn, media: mediaConn,
		local: sipConn.LocalAddr().(*net.UDPAddr).AddrPort(), heard: NewTimeline(now),
		ssrc: binary.BigEndian.Uint32(randomBytes(4)), callID: hex.EncodeToString(randomBytes(8)) + "@127.0.0.1",
		tag: hex.EncodeToString(randomBytes(4)), cseq: 1, responses: make(chan sipMessage, 16),
		ended: make(chan struct{}), stop: make(chan struct{})}
	p.sendTone.Store(true)
	p.wg.Add(1)
	go p.readSIP()
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
func (p *Phone) Ended() <-chan struct{} { return p.ended }

// EndReason says how the call ended: "bye from confd", "hung up", or "" while it goes on.
func (p *Phone) EndReason() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.endReason
}

func (p *Phone) end(reason string) {
	p.endOnce.Do(func() {
		p.mu.Lock()
		p.endReason = reason
		p.mu.Unlock()
		close(p.ended)
	})
}

// invite sends the INVITE, retransmitting it until a response, and on a 2xx sends the ACK.
func (p *Phone) invite(ctx context.Context, now time.Time) error {
	mediaPort := p.media.LocalAddr().(*net.UDPAddr).Port
	uri := fmt.Sprintf("sip:%s@%s", p.room, p.cfg.Server)
	p.target = uri
	req := p.request("INVITE", uri, 1, "application/sdp", sdpOffer(now.UnixNano(), mediaPort, p.cfg.Codec))
	resp, err := p.transact(ctx, req, "INVITE")
	if err != nil {
		return err
	}
	if resp.status >= 300 {
		return fmt.Errorf("%w: INVITE %s: %d", ErrRefused, uri, resp.status)
	}
	remote, pts, err := answerMedia(resp.body)
	if err != nil {
		return err
	}
	if !slices.Contains(pts, payloadType(p.cfg.Codec)) {
		return fmt.Errorf("%w: payload types %v, offered %d", ErrBadAnswer, pts, payloadType(p.cfg.Codec))
	}
	p.mu.Lock()
	p.toTag = headerParam(resp.get("to"), "tag")
	if c := contactURI(resp.get("contact")); c != "" {
		p.target = c
	}
	p.remote, p.answerPT = remote, payloadType(p.cfg.Codec)
	p.ack = p.request("ACK", p.target, 1, "", nil)
	ack := p.ack
	p.mu.Unlock()
	_, err = p.sip.WriteToUDPAddrPort(ack, p.cfg.Server)
	return err
}

// Hangup sends BYE and waits for its final response. It returns ErrEnded when confd had
// already ended the call.
func (p *Phone) Hangup(ctx context.Context) error {
	select {
	case <-p.ended:
		return ErrEnded
	default:
	}
	p.mu.Lock()
	p.cseq++
	req := p.request("BYE", p.target, p.cseq, "", nil)
	p.mu.Unlock()
	_, err := p.transact(ctx, req, "BYE")
	p.end("hung up")
	return err
}

// Close hangs up if the call goes on (bounded by Config.Timeout), stops the phone's
// goroutines and closes its sockets. It is safe to call more than once.
func (p *Phone) Close() error {
	var err error
	select {
	case <-p.ended:
	default:
		ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout)
		err = p.Hangup(ctx)
		cancel()
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
	p.sip.Close()
	p.media.Close()
	p.wg.Wait()
}

// request builds an in-dialog or initial request; each gets a fresh branch (RFC 3261 section
// 8.1.1.7) and rport (RFC 3581), so confd answers to the socket it came from.
func (p *Phone) request(method, uri string, cseq int, contentType string, body []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n", p.local, hex.EncodeToString(randomBytes(6)))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: \"%s\" <sip:%s@127.0.0.1>;tag=%s\r\n", p.cfg.Name, p.cfg.User, p.tag)
	to := fmt.Sprintf("<sip:%s@%s>", p.room, p.cfg.Server.Addr())
	if p.toTag != "" {
		to += ";tag=" + p.toTag
	}
	fmt.Fprintf(&b, "To: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", to, p.callID, cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\n", p.cfg.User, p.local)
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return []byte(b.String())
}

// transact sends req and returns its final response, retransmitting on RFC 3261's UDP timer
// until a provisional or final response arrives, within Config.Timeout and ctx.
func (p *Phone) transact(ctx context.Context, req []byte, method string) (sipMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	interval, heard := sipT1, false
	retransmit := time.NewTimer(interval)
	defer retransmit.Stop()
	if _, err := p.sip.WriteToUDPAddrPort(req, p.cfg.Server); err != nil {
		return sipMessage{}, err
	}
	for {
		select {
		case <-ctx.Done():
			return sipMessage{}, fmt.Errorf("%w: %s from %s: %v", ErrTimeout, method, p, ctx.Err())
		case r := <-p.responses:
			if r.cseqMethod() != method || r.get("call-id") != p.callID {
				continue
			}
			if r.status >= 200 {
				return r, nil
			}
			heard = true
		case <-retransmit.C:
			if !heard {
				if _, err := p.sip.WriteToUDPAddrPort(req, p.cfg.Server); err != nil {
					return sipMessage{}, err
				}
			}
			interval = min(2*interval, 4*time.Second)
			retransmit.Reset(interval)
		}
	}
}

// readSIP answers confd's requests (200 to a BYE, which ends the call; 200 to OPTIONS and
// INFO; 488 to a re-INVITE, which this phone does not renegotiate) and hands responses to
// transact.
func (p *Phone) readSIP() {
	defer p.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, src, err := p.sip.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		m, ok := parseSIP(buf[:n])
		if !ok {
			continue
		}
		if m.status > 0 {
			p.mu.Lock()
			ack := p.ack
			p.mu.Unlock()
			if ack != nil && m.cseqMethod() == "INVITE" && m.status < 300 {
				_, _ = p.sip.WriteToUDPAddrPort(ack, p.cfg.Server) // a retransmitted 2xx
				continue
			}
			select {
			case p.responses <- m:
			default:
			}
			continue
		}
		var answer []byte
		switch m.method {
		case "ACK":
		case "BYE":
			answer = response(m, 200, "OK", "")
			p.end("bye from confd")
		case "INVITE":
			answer = response(m, 488, "Not Acceptable Here", "")
		default:
			answer = response(m, 200, "OK", "")
		}
		if answer != nil {
			_, _ = p.sip.WriteToUDPAddrPort(answer, src)
		}
	}
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
	payload := make([]byte, codec.MaxPayloadSize)
	pkt := make([]byte, 12+codec.MaxPayloadSize)
	p.mu.Lock()
	remote, pt := p.remote, p.answerPT
	p.mu.Unlock()
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
		case <-p.ended:
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
		arrival, stamped := kernelArrival(oob[:oobn])
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
