package load

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"confd/codec"
	"confd/jitter"
	"confd/testkit"
)

// writeRTP writes p as an RTP packet (RFC 3550 section 5.1: version 2, no CSRC, no extension)
// into buf and returns its length.
func writeRTP(buf []byte, p jitter.Packet) int {
	buf[0] = 0x80
	buf[1] = p.PayloadType & 0x7f
	if p.Marker {
		buf[1] |= 0x80
	}
	binary.BigEndian.PutUint16(buf[2:], p.SequenceNumber)
	binary.BigEndian.PutUint32(buf[4:], p.Timestamp)
	binary.BigEndian.PutUint32(buf[8:], p.SSRC)
	return 12 + copy(buf[12:], p.Payload)
}

// rtpPayload returns the payload type, sequence number and payload of an RTP packet, skipping
// CSRCs, the header extension and padding; ok is false for RTCP (RFC 5761 section 4) and for
// anything malformed.
func rtpPayload(pkt []byte) (pt uint8, seq uint16, payload []byte, ok bool) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 || (pkt[1] >= 192 && pkt[1] <= 223) {
		return 0, 0, nil, false
	}
	n := 12 + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 {
		if len(pkt) < n+4 {
			return 0, 0, nil, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
	}
	end := len(pkt)
	if pkt[0]&0x20 != 0 && end > n {
		end -= int(pkt[end-1])
	}
	if n > end {
		return 0, 0, nil, false
	}
	return pkt[1] & 0x7f, binary.BigEndian.Uint16(pkt[2:]), pkt[n:end], true
}

// receiver counts one leg's incoming RTP (loss from sequence numbers, RFC 3550 appendix A.3)
// and, for a sampled listener, decodes the audio and finds its onsets.
type receiver struct {
	packets atomic.Uint64
	highest atomic.Uint64 // extended highest sequence number + 1; 0 before the first packet
	ext     uint64        // owned by the reading goroutine
	// reordered counts packets whose sequence number was not above the highest one before it
	// (late or duplicate: a stream whose numbers only go forward has none); wrongPT counts RTP
	// packets whose payload type is not the one the call negotiated (pt).
	reordered, wrongPT atomic.Uint64
	// from is confd's media address of the call, once known; foreign counts datagrams from
	// anywhere else (another process's stream to a port this run reuses, say), which are not
	// counted as RTP of the call.
	from    atomic.Pointer[netip.AddrPort]
	foreign atomic.Uint64

	// pt is the payload type the leg receives. A sampled listener's: its codec's decoder, the
	// onsets it heard and, while keep is set, the PCM it decoded.
	pt      uint8
	sampled bool
	dec     codec.Decoder
	mu      sync.Mutex
	det     onsetDetector
	keep    bool
	pcm     []int16
	frame   [codec.MaxPacketSamples]int16
}

// packet takes one packet that arrived at t.
func (r *receiver) packet(pkt []byte, t time.Time) {
	pt, seq, payload, ok := rtpPayload(pkt)
	if !ok {
		return
	}
	r.packets.Add(1)
	if pt != r.pt {
		r.wrongPT.Add(1)
	}
	if r.ext == 0 {
		r.ext = 1<<16 | uint64(seq) // one cycle up, so that a first reordered packet cannot wrap below 0
	} else if d := int16(seq - uint16(r.ext)); d > 0 {
		r.ext += uint64(d)
	} else {
		r.reordered.Add(1) // a duplicate or a reordered packet (d <= 0) leaves the highest number
	}
	r.highest.Store(r.ext + 1)
	if !r.sampled || pt != r.pt || len(payload) == 0 {
		return
	}
	n, err := r.dec.Decode(payload, r.frame[:])
	if err != nil {
		return
	}
	r.mu.Lock()
	r.det.feed(r.frame[:n], t)
	if r.keep {
		r.pcm = append(r.pcm, r.frame[:n]...)
	}
	r.mu.Unlock()
}

// counts returns the packets received and the extended highest sequence number + 1.
func (r *receiver) counts() (received, highest uint64) {
	return r.packets.Load(), r.highest.Load()
}

// disorder returns the reordered and wrong-payload-type counts.
func (r *receiver) disorder() (reordered, wrongPT uint64) {
	return r.reordered.Load(), r.wrongPT.Load()
}

// fromCall reports whether a datagram from src comes from the call's confd address, and counts
// it as foreign otherwise.
func (r *receiver) fromCall(src netip.AddrPort) bool {
	if f := r.from.Load(); f != nil && *f == netip.AddrPortFrom(src.Addr().Unmap(), src.Port()) {
		return true
	}
	r.foreign.Add(1)
	return false
}

// readUDP reads a SIP leg's media socket until it is closed, handing packets from the call's
// confd address to r with their arrival time: the kernel's for a sampled listener, the read's
// otherwise.
func readUDP(c *net.UDPConn, r *receiver) {
	buf := make([]byte, 1500)
	oob := make([]byte, 128)
	for {
		if !r.sampled {
			n, src, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				if isClosed(err) {
					return
				}
				continue
			}
			if r.fromCall(src) {
				r.packet(buf[:n], time.Time{})
			}
			continue
		}
		n, oobn, _, src, err := c.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if isClosed(err) {
				return
			}
			continue
		}
		if !r.fromCall(src) {
			continue
		}
		t, ok := testkit.ArrivalTime(oob[:oobn])
		if !ok {
			t = time.Now()
		}
		r.packet(buf[:n], t)
	}
}
