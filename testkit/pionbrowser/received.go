package pionbrowser

import (
	"errors"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// Packets returns a copy of the packets received so far.
func (b *Browser) Packets() []Packet {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Packet(nil), b.packets...)
}

// Tracks returns how many remote tracks arrived.
func (b *Browser) Tracks() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tracks
}

// SenderReports returns how many RTCP sender reports arrived about the stream the browser
// receives (RFC 3550 section 6.4.1).
func (b *Browser) SenderReports() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.srs
}

// ReportBlocks returns how many RTCP report blocks arrived about the stream the browser sends.
func (b *Browser) ReportBlocks() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rrBlocks
}

// Received returns how many packets arrived and decodes them, concealing lost ones with Opus
// FEC from the next packet where it has it, else PLC, as a browser's NetEq would.
func (b *Browser) Received() (int, []int16) {
	n, pcm, _, _ := b.Decode()
	return n, pcm
}

// Decode is Received with the count of frames rebuilt from FEC and concealed by PLC.
func (b *Browser) Decode() (packets int, pcm []int16, fec, plc int) {
	pkts := b.Packets()
	dec, err := codec.NewDecoder(codec.Opus)
	if err != nil {
		b.fail(err)
		return 0, nil, 0, 0
	}
	var out []int16
	frame := make([]int16, codec.MaxPacketSamples)
	for i, p := range pkts {
		if i > 0 {
			gap := int(p.Seq - pkts[i-1].Seq)
			if gap > 1 && gap < 50 {
				for k := 0; k < gap-2; k++ {
					n, _ := dec.Conceal(frame[:codec.FrameSamples])
					out = append(out, frame[:n]...)
					plc++
				}
				n, err := dec.DecodeFEC(p.Payload, frame[:codec.FrameSamples])
				if errors.Is(err, codec.ErrNoFEC) || err != nil {
					n, _ = dec.Conceal(frame[:codec.FrameSamples])
					plc++
				} else {
					fec++
				}
				out = append(out, frame[:n]...)
			}
		}
		n, err := dec.Decode(p.Payload, frame)
		if err != nil {
			continue
		}
		out = append(out, frame[:n]...)
	}
	return len(pkts), out, fec, plc
}

// LastSecond decodes every packet received, back to back without concealment, and returns the
// last second.
func (b *Browser) LastSecond() []int16 {
	pkts := b.Packets()
	dec, err := codec.NewDecoder(codec.Opus)
	if err != nil {
		b.fail(err)
		return nil
	}
	var pcm []int16
	frame := make([]int16, codec.MaxPacketSamples)
	for _, p := range pkts {
		if n, err := dec.Decode(p.Payload, frame); err == nil {
			pcm = append(pcm, frame[:n]...)
		}
	}
	if len(pcm) > codec.SampleRate {
		pcm = pcm[len(pcm)-codec.SampleRate:]
	}
	return pcm
}

// HealthyLevel is the tone's level over the packets that arrived in the last window, but only
// when the room kept real time in it: their sequence numbers span at least 90% of the window's
// 20 ms ticks (lost packets count, they were sent). On a shared 2-core box a room may be
// starved of CPU for a while; such a window says nothing about the network path.
func (b *Browser) HealthyLevel(hz float64, window time.Duration) (float64, bool) {
	pcm, ok := b.HealthyWindow(window)
	if !ok {
		return 0, false
	}
	return audiotest.ToneLevel(pcm, codec.SampleRate, hz), true
}

// HealthyWindow is the decoded audio of HealthyLevel's window.
func (b *Browser) HealthyWindow(window time.Duration) ([]int16, bool) {
	b.mu.Lock()
	first := -1
	since := time.Now().Add(-window)
	for i, p := range b.packets {
		if p.At.After(since) {
			first = i
			break
		}
	}
	var span int
	if first >= 0 {
		span = int(b.packets[len(b.packets)-1].Seq-b.packets[first].Seq) + 1
	}
	b.mu.Unlock()
	if first < 0 || span < int(window/(20*time.Millisecond))*9/10 {
		return nil, false
	}
	_, pcm, _, _ := b.Decode()
	if n := span * codec.FrameSamples; len(pcm) > n {
		pcm = pcm[len(pcm)-n:]
	}
	return pcm, true
}
