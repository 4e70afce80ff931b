package sipleg

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"confd/bridge"
	"confd/codec"
	"confd/testkit"
	"confd/testkit/audiotest"
)

// rawPhone is a SIP phone written in the test: a rawClient dialog and a PCMU media socket that
// sends a sine tone every 20 ms and decodes what it receives.
type rawPhone struct {
	t     *testing.T
	d     *dialog
	room  string
	media *net.UDPConn
	port  int
	confd netip.AddrPort // confd's media address, from its answer
	tone  float64
	ver   int // SDP version

	mu    sync.Mutex
	heard []int16 // decoded audio at codec.SampleRate since the last Listen
	// The stream confd sends (RFC 3550 section 5.1): the packets received, the last one's
	// header and arrival, and each place where the next was not the same stream going on.
	packets   int
	last      rtp.Header
	lastAt    time.Time
	streamCut []string

	stop chan struct{}
	wg   sync.WaitGroup
}

var mediaPort = regexp.MustCompile(`m=audio (\d+) `)

// answerMedia is the media address confd's SDP answer res names (confd listens on loopback in
// these tests), and whether it names one.
func answerMedia(res *sip.Response) (netip.AddrPort, bool) {
	m := mediaPort.FindSubmatch(res.Body())
	if m == nil {
		return netip.AddrPort{}, false
	}
	n, err := strconv.ParseUint(string(m[1]), 10, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(n)), true
}

// dialRawPhone calls room from a new rawPhone sending a toneHz tone, and starts its media.
func dialRawPhone(t *testing.T, ts *testServer, room string, toneHz float64) *rawPhone {
	t.Helper()
	media, port := callerMedia(t)
	p := inviteRawPhone(t, ts, room, port, media, toneHz)
	p.start()
	return p
}

func (p *rawPhone) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.media.SetReadDeadline(time.Now())
	p.wg.Wait()
}

// send streams a PCMU tone to confd's media port from conn until the phone stops.
func (p *rawPhone) send(conn *net.UDPConn, toneHz float64) {
	defer p.wg.Done()
	enc, err := codec.NewEncoder(codec.Format{Codec: codec.PCMU})
	if err != nil {
		p.t.Error(err)
		return
	}
	tone := audiotest.NewTone(toneHz, 0.25, codec.SampleRate)
	pcm := make([]int16, codec.FrameSamples)
	payload := make([]byte, codec.MaxPayloadSize)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: uint32(toneHz) * 7919}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	dest := net.UDPAddrFromAddrPort(p.confd)
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
		}
		tone.Fill(pcm)
		n, err := enc.Encode(pcm, payload)
		if err != nil {
			p.t.Error(err)
			return
		}
		pkt.Payload = payload[:n]
		raw, _ := pkt.Marshal()
		conn.WriteToUDP(raw, dest)
		pkt.SequenceNumber++
		pkt.Timestamp += 160
	}
}

// receive decodes the PCMU that confd sends.
func (p *rawPhone) receive() {
	defer p.wg.Done()
	dec, err := codec.NewDecoder(codec.PCMU)
	if err != nil {
		p.t.Error(err)
		return
	}
	buf := make([]byte, 1500)
	pcm := make([]int16, codec.MaxPacketSamples)
	var pkt rtp.Packet
	for {
		n, err := p.media.Read(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 0 {
			continue
		}
		p.follow(&pkt.Header, time.Now())
		k, err := dec.Decode(pkt.Payload, pcm)
		if err != nil {
			continue
		}
		p.mu.Lock()
		p.heard = append(p.heard, pcm[:k]...)
		p.mu.Unlock()
	}
}

// follow notes where a packet does not go on with the stream before it: another SSRC, a
// sequence number other than the next, or a timestamp that did not move forward by at least
// a packet (over a pause of more than a second, by the pause less half a second: it kept time)
// and at most by the time since the last packet and a second (a random jump lands there with a
// chance of one in half a million; the exact steps are bridge's tests').
func (p *rawPhone) follow(h *rtp.Header, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.packets > 0 {
		gap := at.Sub(p.lastAt)
		step, least, most := h.Timestamp-p.last.Timestamp, uint32(160), uint32((gap+time.Second).Seconds()*8000)
		if gap > time.Second {
			least = uint32((gap - 500*time.Millisecond).Seconds() * 8000)
		}
		if h.SSRC != p.last.SSRC || h.SequenceNumber != p.last.SequenceNumber+1 || step < least || step > most {
			p.streamCut = append(p.streamCut, fmt.Sprintf("after packet %d: SSRC %x seq %d ts %d -> SSRC %x seq %d ts %d, %v later",
				p.packets, p.last.SSRC, p.last.SequenceNumber, p.last.Timestamp, h.SSRC, h.SequenceNumber, h.Timestamp, at.Sub(p.lastAt)))
		}
	}
	p.packets++
	p.last, p.lastAt = *h, at
}

// listen returns what the phone hears during the next d, the first 300 ms (the jitter
// buffer's catching up with a change) left out.
func (p *rawPhone) listen(d time.Duration) []int16 {
	time.Sleep(300 * time.Millisecond)
	p.mu.Lock()
	p.heard = p.heard[:0]
	p.mu.Unlock()
	time.Sleep(d)
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.heard...)
}

// level is the level in dBFS of toneHz in pcm (codec.SampleRate), or -200 for no audio.
func level(pcm []int16, toneHz float64) float64 {
	if len(pcm) < codec.SampleRate/10 {
		return -200
	}
	return audiotest.ToneLevel(pcm, codec.SampleRate, toneHz)
}

// typeDigits types digits (a meeting number, a PIN) by SIP INFO, each answered 200.
func (p *rawPhone) typeDigits(t *testing.T, digits string) {
	t.Helper()
	for _, digit := range []byte(digits) {
		if code := p.d.info(digit); code != 200 {
			t.Fatalf("INFO answered %d", code)
		}
	}
}

// reinvite sends a re-INVITE offering PCMU with an SDP direction attribute ("" for none).
func (p *rawPhone) reinvite(direction string) *sip.Response {
	p.ver++
	body := pcmuAudio
	if direction != "" {
		body += "a=" + direction + "\r\n"
	}
	res := p.d.request("INVITE", p.room, sdpOffer(p.port, p.ver, body))
	if res.StatusCode != 200 {
		p.t.Fatalf("re-INVITE %s answered %d", direction, res.StatusCode)
	}
	p.d.ack("")
	return res
}

// TestNoLeaksAfter50Calls: fifty calls join a room and leave it (five at a time), with media
// flowing; afterwards every media port pair is free, no call is left, and the goroutines and
// sockets of the process are back at their baseline once the SIP transaction timers ran out.
// It runs first and alone: the counts are the whole process's.
func TestNoLeaksAfter50Calls(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	const calls, parallel = 50, 5
	clients := make([]*rawClient, parallel)
	medias := make([]*net.UDPConn, parallel)
	ports := make([]int, parallel)
	for i := range clients {
		clients[i] = newRawClient(t, "udp", ts)
		medias[i], ports[i] = callerMedia(t)
	}
	// Warm up once, so that lazily started goroutines (sipgo's, the bridge's) are counted in.
	oneCall(t, ts, clients[0], medias[0], ports[0], "warmup")
	waitIdle(t, ts)
	settle := func() (int, int) {
		runtime.GC()
		return runtime.NumGoroutine(), testkit.OpenSockets(t)
	}
	time.Sleep(sipTimersDone)
	g0, s0 := settle()
	var wg sync.WaitGroup
	var done atomic.Int32
	for i := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls / parallel {
				oneCall(t, ts, clients[i], medias[i], ports[i], fmt.Sprintf("leak%d", i%2))
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if done.Load() != calls {
		t.Fatalf("%d of %d calls made", done.Load(), calls)
	}
	waitIdle(t, ts)
	deadline := time.Now().Add(sipTimersDone + 5*time.Second)
	for {
		g, s := settle()
		if g <= g0 && s <= s0 {
			t.Logf("goroutines %d (baseline %d), sockets %d (baseline %d)", g, g0, s, s0)
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines %d (baseline %d), sockets %d (baseline %d)\n%s", g, g0, s, s0, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// oneCall makes one call into room: INVITE, ACK, a little RTP, BYE.
func oneCall(t *testing.T, ts *testServer, c *rawClient, media *net.UDPConn, port int, room string) {
	d := c.newDialog()
	d.callID = fmt.Sprintf("leak-%d-%s@127.0.0.1", time.Now().UnixNano(), media.LocalAddr())
	res := d.request("INVITE", room, sdpOffer(port, 1, pcmuAudio))
	if res.StatusCode != 200 {
		t.Errorf("INVITE answered %d", res.StatusCode)
		return
	}
	d.ack("")
	if dest, ok := answerMedia(res); ok {
		for i := range 5 {
			media.WriteToUDP(rtpPacket(uint16(i)), net.UDPAddrFromAddrPort(dest))
		}
	}
	d.bye()
}

// listenUntil listens in windows of a second, up to five, until the level of toneHz reaches
// -30 dBFS, and calls check on each window; it returns the last window's level. On a loaded
// machine (the race detector, other tests' phones) a room can miss ticks, so "heard" gets a
// few chances, while what must never be heard is checked in every window.
func (p *rawPhone) listenUntil(toneHz float64, check func(pcm []int16)) float64 {
	l := -200.0
	for range 5 {
		pcm := p.listen(time.Second)
		if check != nil {
			check(pcm)
		}
		if l = level(pcm, toneHz); l >= -30 {
			break
		}
	}
	return l
}

// TestHeldPhoneIsNotHeard: a phone that puts the call on hold (re-INVITE sendonly) and keeps
// sending its "music on hold" is not heard by the others, who still hear each other; after
// unhold (sendrecv) it is heard again (RFC 3264 section 8.4).
func TestHeldPhoneIsNotHeard(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	held := dialRawPhone(t, ts, "hold", 700)
	other := dialRawPhone(t, ts, "hold", 1000)
	third := dialRawPhone(t, ts, "hold", 1300)
	waitParticipants(t, ts, "hold", 3)

	before := other.listenUntil(700, nil)
	mustContain(t, held.reinvite("sendonly").Body(), "a=recvonly")
	during := -200.0
	thirdHeard := other.listenUntil(1300, func(pcm []int16) { during = max(during, level(pcm, 700)) })
	mustContain(t, held.reinvite("sendrecv").Body(), "a=sendrecv")
	after := other.listenUntil(700, nil)
	t.Logf("700 Hz heard by the other: %.1f dBFS, on hold %.1f dBFS (1300 Hz of the third: %.1f dBFS), after unhold %.1f dBFS",
		before, during, thirdHeard, after)
	if before < -30 || after < -30 || thirdHeard < -30 {
		t.Errorf("not heard before (%.1f dBFS) or after (%.1f dBFS) the hold, or the third not during it (%.1f dBFS)",
			before, after, thirdHeard)
	}
	// Heard, a tone reads about -12 dBFS; the G.711 quantisation noise of the third's tone
	// reads about -58 dBFS at 700 Hz.
	if during > -45 {
		t.Errorf("music on hold heard at %.1f dBFS", during)
	}
	for _, p := range []*rawPhone{held, other, third} {
		p.d.bye()
	}
	waitIdle(t, ts)
}

// TestStrangerToAMediaPortIsNeverHeard: once a call's media source is learned, a second address
// that sends a different tone to the call's media port is never heard by the others, and gets
// nothing back (strict RTP; Asterisk's "RTP bleed").
func TestStrangerToAMediaPortIsNeverHeard(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	caller := dialRawPhone(t, ts, "strict", 700)
	listener := dialRawPhone(t, ts, "strict", 1000)
	waitParticipants(t, ts, "strict", 2)
	// What the detector reads at 1300 Hz without a stranger: G.711 quantisation noise of the
	// caller's tone.
	floor := -200.0
	listener.listenUntil(700, func(pcm []int16) { floor = max(floor, level(pcm, 1300)) })

	stranger, _ := callerMedia(t)
	caller.wg.Add(1)
	go caller.send(stranger, 1300) // to the caller's media port on confd, from another port
	strangerLevel := -200.0
	callerLevel := listener.listenUntil(700, func(pcm []int16) { strangerLevel = max(strangerLevel, level(pcm, 1300)) })
	t.Logf("the listener hears the caller at %.1f dBFS and the stranger at %.1f dBFS (%.1f dBFS without it)",
		callerLevel, strangerLevel, floor)
	if callerLevel < -30 {
		t.Errorf("the caller is heard at %.1f dBFS", callerLevel)
	}
	if strangerLevel > -45 || strangerLevel > max(floor, -70)+6 {
		t.Errorf("the stranger is heard at %.1f dBFS (%.1f dBFS without it)", strangerLevel, floor)
	}
	stranger.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := stranger.ReadFromUDP(make([]byte, 1500)); err == nil {
		t.Errorf("the stranger received %d bytes", n)
	}
	if st := ts.onlyCallTo(t, caller).media.Stats(); st.Strangers == 0 {
		t.Errorf("no stranger counted: %+v", st)
	}
	caller.d.bye()
	listener.d.bye()
	waitIdle(t, ts)
}

// onlyCallTo returns the call whose remote media is p's.
func (ts *testServer) onlyCallTo(t *testing.T, p *rawPhone) *call {
	t.Helper()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, c := range ts.calls {
		if c.media.Port() == int(p.confd.Port()) {
			return c
		}
	}
	t.Fatal("no call for the phone")
	return nil
}

// readMessage returns the next SIP message the raw client receives, or nil after timeout.
func (c *rawClient) readMessage(timeout time.Duration) sip.Message {
	m, _ := c.readMessageFrom(timeout)
	return m
}

// readMessageFrom is readMessage with the address the message came from.
func (c *rawClient) readMessageFrom(timeout time.Duration) (sip.Message, *net.UDPAddr) {
	c.udp.SetReadDeadline(time.Now().Add(timeout))
	n, from, err := c.udp.ReadFromUDP(c.buf)
	if err != nil {
		return nil, nil
	}
	m, err := sip.NewParser().ParseSIP(c.buf[:n])
	if err != nil {
		c.t.Fatalf("unparsable message %q", c.buf[:n])
	}
	return m, from
}

// TestReInvite2xxIsRetransmittedUntilACK: the 200 to a re-INVITE comes again (RFC 3261 section
// 13.3.1.4) until the ACK, and stops after it; a 200 never acknowledged ends the call with a
// BYE after 64*T1.
func TestReInvite2xxIsRetransmittedUntilACK(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	c, d, port := newCaller(t, ts)
	if res := d.request("INVITE", "retx", sdpOffer(port, 1, pcmuAudio)); res.StatusCode != 200 {
		t.Fatalf("INVITE answered %d", res.StatusCode)
	}
	d.ack("")
	reinvite := func(version int) uint32 {
		cseq := d.cseq
		if res := d.request("INVITE", "retx", sdpOffer(port, version, pcmuAudio)); res.StatusCode != 200 {
			t.Fatalf("re-INVITE answered %d", res.StatusCode)
		}
		return cseq
	}
	cseq := reinvite(2)
	again := 0
	for again < 2 {
		m := c.readMessage(2 * time.Second)
		if m == nil {
			t.Fatalf("the 200 came again %d times, want 2 before the ACK", again)
		}
		if res, ok := m.(*sip.Response); ok && res.StatusCode == 200 && res.CSeq().SeqNo == cseq {
			again++
		}
	}
	d.ack("")
	quietFrom := time.Now().Add(50 * time.Millisecond) // one may cross the ACK
	for m := c.readMessage(time.Second); m != nil; m = c.readMessage(time.Second) {
		if res, ok := m.(*sip.Response); ok && res.CSeq().SeqNo == cseq && time.Now().After(quietFrom) {
			t.Fatal("the 200 came again after the ACK")
		}
	}
	reinvite(3)
	if c.awaitRequest(sip.BYE, 64*testT1+3*time.Second) == nil {
		t.Fatal("no BYE after a 200 that was never acknowledged")
	}
	waitIdle(t, ts)
}

// TestCancel: a CANCEL that matches no INVITE gets 481 (RFC 3261 section 9.2); a CANCEL sent
// right behind its INVITE races confd's immediate 200 and is harmless either way: the INVITE
// ends 200 (the caller ACKs and hangs up) or 487, and nothing is left behind.
func TestCancel(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	_, port := callerMedia(t)
	c := newRawClient(t, "udp", ts)
	request := func(method, branch, callID string, cseq int, body string) string {
		ct := ""
		if body != "" {
			ct = "Content-Type: application/sdp\r\n"
		}
		return fmt.Sprintf("%s sip:cancel@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s\r\nFrom: <sip:tester@127.0.0.1>;tag=c1\r\n"+
			"To: <sip:cancel@%s>\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:tester@%s>\r\nMax-Forwards: 70\r\n%sContent-Length: %d\r\n\r\n%s",
			method, c.srv, c.localAddr(), branch, c.srv, callID, cseq, method, c.localAddr(), ct, len(body), body)
	}
	c.send([]byte(request("CANCEL", "z9hG4bKnothing", "nothing@127.0.0.1", 1, "")))
	if res := c.read(3 * time.Second); res == nil || res.StatusCode != 481 {
		t.Fatalf("a CANCEL for nothing answered %v", res)
	}
	outcomes := map[int]int{}
	for i := range 10 {
		branch, callID := fmt.Sprintf("z9hG4bKrace%d", i), fmt.Sprintf("race%d-%d@127.0.0.1", i, time.Now().UnixNano())
		c.send([]byte(request("INVITE", branch, callID, 1, sdpOffer(port, 1, pcmuAudio))))
		c.send([]byte(request("CANCEL", branch, callID, 1, "")))
		var invite *sip.Response
		for invite == nil {
			res := c.read(3 * time.Second)
			if res == nil {
				t.Fatal("the INVITE got no final answer")
			}
			if res.CSeq().MethodName == sip.INVITE {
				invite = res
			}
		}
		outcomes[invite.StatusCode]++
		d := &dialog{c: c, callID: callID, cseq: 1, last: invite}
		switch invite.StatusCode {
		case 200:
			d.ack("")
			// The BYE carries the dialog's own tags (From tag c1), as every in-dialog
			// request must (RFC 3261 section 12.2.1.1).
			c.send(c.inDialog("BYE", invite, 2))
			for {
				res := c.read(3 * time.Second)
				if res == nil {
					t.Fatal("BYE not answered")
				}
				if res.CSeq().MethodName != sip.BYE {
					continue // the CANCEL's answer
				}
				if res.StatusCode != 200 {
					t.Fatalf("BYE answered %v", res)
				}
				break
			}
		case 487:
			// The ACK of a non-2xx answer is part of the INVITE transaction: same branch.
			ack := strings.Replace(request("ACK", branch, callID, 1, ""), "To: <sip:cancel@"+c.srv.String()+">",
				"To: "+invite.To().Value(), 1)
			c.send([]byte(ack))
		default:
			t.Fatalf("the cancelled INVITE answered %d", invite.StatusCode)
		}
	}
	t.Logf("INVITE outcomes with a CANCEL right behind: %v", outcomes)
	waitIdle(t, ts)
}

// TestReInviteRacingMoves (red team, issue 13): a phone that re-INVITEs (hold, unhold, a new
// codec) while the API moves it between rooms, both at once and many times over, ends up in
// exactly one room — the last it was moved to — with the state its last re-INVITE asked for,
// and its BYE takes it out of that room: a change that reached the old room's owner too late
// is passed on, never applied to a room it left or lost.
func TestReInviteRacingMoves(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	p := dialRawPhone(t, ts, "main", 700)
	defer p.close()
	waitParticipants(t, ts, "main", 1)
	r, _ := ts.bridge.Room("main")
	id := r.Participants()[0].ID()

	where := "main"
	for i := range 20 {
		to := []string{"breakout", "main"}[i%2]
		done := make(chan error, 1)
		go func() {
			_, err := ts.bridge.Move(where, id, bridge.MoveRequest{Room: to})
			done <- err
		}()
		p.reinvite([]string{"sendonly", "sendrecv"}[i%2])
		if err := <-done; err != nil {
			t.Fatalf("move %d %s→%s: %v", i, where, to, err)
		}
		where = to
	}
	// The last re-INVITE (i = 19) was sendrecv; the last move was to "main".
	check := func() error {
		for _, name := range []string{"main", "breakout"} {
			st, err := ts.bridge.RoomState(name)
			n := 0
			if err == nil {
				for _, q := range st.Participants {
					if q.ID == id {
						n++
						if q.OnHold {
							return fmt.Errorf("on hold in %s after unhold", name)
						}
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[name == where]; n != want {
				return fmt.Errorf("%s lists the phone %d times, want %d", name, n, want)
			}
		}
		return nil
	}
	var last error
	if !testkit.WaitFor(5*time.Second, func() bool { last = check(); return last == nil }) {
		t.Fatal(last)
	}
	p.d.bye()
	testkit.Eventually(t, 5*time.Second, "the moved call is still in a room after its BYE", func() bool { return participants(ts, "main")+participants(ts, "breakout") == 0 })
	waitIdle(t, ts)
}

// TestStrangerRacingTheCallerToItsPortGetsNothing is issue 8 item 4 end to end: a stranger who
// learned a new call's media port sprays it before the caller's first packet (random streams,
// then a short well-formed one). The caller, sending from the address of its SDP, is heard in
// the room and hears it; the stranger gets not one packet.
func TestStrangerRacingTheCallerToItsPortGetsNothing(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	listener := dialRawPhone(t, ts, "race", 1000)
	waitParticipants(t, ts, "race", 1)

	media, port := callerMedia(t)
	p := inviteRawPhone(t, ts, "race", port, media, 700)
	c := ts.onlyCallTo(t, p)

	stranger, _ := callerMedia(t)
	dst := net.UDPAddrFromAddrPort(p.confd)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		stranger.WriteToUDP(rtpFrom(0, uint16(rng.Uint32()), rng.Uint32()), dst)
	}
	for i := range LatchRun - 1 {
		stranger.WriteToUDP(rtpFrom(0, uint16(i), 1300), dst)
	}
	testkit.Eventually(t, 5*time.Second, "the strangers' packets are not all counted", func() bool { return c.media.Stats().Strangers == 40+LatchRun-1 })

	p.start()

	hearEachOther(t, p, listener)
	if src, ok := c.media.Source(); !ok || src.Port() != uint16(port) {
		t.Errorf("media source %v, want the caller's port %d", src, port)
	}
	stranger.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := stranger.ReadFromUDP(make([]byte, 1500)); err == nil {
		t.Errorf("the stranger received %d bytes", n)
	}
	if st := c.media.Stats(); st.Latches != 0 {
		t.Errorf("the media latched away from the SDP address: %+v", st)
	}
	p.d.bye()
	listener.d.bye()
	waitIdle(t, ts)
}

// inviteRawPhone sends a rawPhone's INVITE to room, its SDP naming sdpPort, and reads confd's
// media port from the answer; media is the socket it will send from and receive on. start
// ACKs and sets its media going.
func inviteRawPhone(t *testing.T, ts *testServer, room string, sdpPort int, media *net.UDPConn, toneHz float64) *rawPhone {
	t.Helper()
	return inviteRawPhoneWith(t, ts, room, sdpPort, media, toneHz, "")
}

// inviteRawPhoneWith is inviteRawPhone with extra lines (each ending in CRLF) in the offer's audio
// section.
func inviteRawPhoneWith(t *testing.T, ts *testServer, room string, sdpPort int, media *net.UDPConn, toneHz float64, extra string) *rawPhone {
	t.Helper()
	p := &rawPhone{t: t, d: newRawClient(t, "udp", ts).newDialog(), room: room, media: media, port: sdpPort, tone: toneHz,
		ver: 1, stop: make(chan struct{})}
	res := p.d.request("INVITE", room, sdpOffer(sdpPort, p.ver, pcmuAudio+extra))
	if res.StatusCode != 200 {
		t.Fatalf("INVITE answered %d %s", res.StatusCode, res.Reason)
	}
	confd, ok := answerMedia(res)
	if !ok {
		t.Fatalf("no audio port in the answer:\n%s", res.Body())
	}
	p.confd = confd
	return p
}

func (p *rawPhone) start() {
	p.d.ack("")
	p.wg.Add(2)
	go p.send(p.media, p.tone)
	go p.receive()
	p.t.Cleanup(p.close)
}

// TestCallerBehindNATIsLatched is the NAT half of issue 8 item 4 end to end: a caller whose
// SDP names one port (its private address, as a NAT hides it) while its media comes from
// another is latched after its first in-sequence packets, is heard, and hears the room.
func TestCallerBehindNATIsLatched(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	listener := dialRawPhone(t, ts, "nat", 1000)
	_, sdpPort := callerMedia(t) // what the SDP says; nothing is sent from it
	rewritten, rewrittenPort := callerMedia(t)
	p := inviteRawPhone(t, ts, "nat", sdpPort, rewritten, 700)
	p.start()
	hearEachOther(t, p, listener)
	c := ts.onlyCallTo(t, p)
	if src, ok := c.media.Source(); !ok || src.Port() != uint16(rewrittenPort) || c.media.Stats().Latches != 1 {
		t.Errorf("media source %v (%+v), want one latch to port %d", src, c.media.Stats(), rewrittenPort)
	}
	p.d.bye()
	listener.d.bye()
	waitIdle(t, ts)
}

// hearEachOther checks that a hears b's tone and b hears a's.
func hearEachOther(t *testing.T, a, b *rawPhone) {
	t.Helper()
	aHeard, bHeard := b.listenUntil(a.tone, nil), a.listenUntil(b.tone, nil)
	t.Logf("%.0f Hz heard at %.1f dBFS, %.0f Hz at %.1f dBFS", a.tone, aHeard, b.tone, bHeard)
	if aHeard < -30 || bHeard < -30 {
		t.Errorf("%.0f Hz heard at %.1f dBFS, %.0f Hz at %.1f dBFS: want both above -30", a.tone, aHeard, b.tone, bHeard)
	}
}

// TestCallInARoomGetsItsRTCPReports is issue 9 item 3 end to end for a SIP leg: the call no
// longer schedules RTCP itself; its room sends the call's sender report (about confd's stream,
// with a report block about the phone's) and SDES to the RTCP address of the phone's SDP
// (RFC 3605 a=rtcp), within the first interval's bound of 3.75 s.
func TestCallInARoomGetsItsRTCPReports(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	media, port := callerMedia(t)
	rtcpConn, rtcpPort := callerMedia(t)
	p := inviteRawPhoneWith(t, ts, "rtcp", port, media, 440, fmt.Sprintf("a=rtcp:%d\r\n", rtcpPort))
	confdPort := int(p.confd.Port())
	p.start()
	c := ts.onlyCall(t)
	testkit.Eventually(t, 5*time.Second, "the call did not join its room", func() bool { return c.part.Load() != nil })
	ours := c.part.Load().SSRC()

	buf := make([]byte, 1500)
	_ = rtcpConn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		k, from, err := rtcpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no RTCP report from confd: %v", err)
		}
		if from.Port() != uint16(confdPort+1) {
			t.Fatalf("RTCP from %v, want confd's RTCP port %d", from, confdPort+1)
		}
		pkts, err := rtcp.Unmarshal(buf[:k])
		if err != nil || len(pkts) != 2 {
			t.Fatalf("%d packets (%v): % x", len(pkts), err, buf[:k])
		}
		sr, ok := pkts[0].(*rtcp.SenderReport)
		if !ok || sr.SSRC != ours {
			t.Fatalf("first packet %+v, want confd's sender report from SSRC %#x", pkts[0], ours)
		}
		if sd, ok := pkts[1].(*rtcp.SourceDescription); !ok || sd.Chunks[0].Source != ours {
			t.Fatalf("second packet %+v, want confd's SDES", pkts[1])
		}
		if len(sr.Reports) == 0 {
			continue // the phone's first packets had not been read at the time of this report
		}
		if b := sr.Reports[0]; b.SSRC != 440*7919 || b.TotalLost != 0 {
			t.Errorf("report block %+v, want one about the phone's SSRC %#x and no loss", b, 440*7919)
		}
		return
	}
}
