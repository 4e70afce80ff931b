package gophone

import (
	"sync"
	"time"

	"confd/codec"
)

// onsetLevel is the sample magnitude (of full scale 32767) that marks a sound's onset: 0.05 of
// full scale, a third of the phones' tone peak and far above digital silence.
const onsetLevel = 1638

// maxArrivals bounds an arrivalLog: two minutes of 20 ms packets, as maxTimeline bounds a
// Timeline.
const maxArrivals = 120 * 50

// arrival is one received packet: when it arrived and at which sample of its audio (at
// codec.SampleRate) the first one louder than onsetLevel is, or -1.
type arrival struct {
	at   time.Time
	loud int
}

// arrivalLog is the packets a phone received in arrival order, for onsets judged by when the
// audio came rather than where the Timeline places it. The Timeline lays packets out by their
// RTP timestamps from an anchor packet, like a playout buffer that never adapts: when the
// sending room's clock later slides (bridge's tick phasing moves it by up to half a frame),
// its packets arrive earlier or later than the Timeline puts them, by as much as the slide,
// which made the same sound seem heard 5 ms sooner through a cascade than beside its speaker.
// An onset by arrival is what a phone with no playout delay would play, the same way for
// every listener.
type arrivalLog struct {
	mu   sync.Mutex
	list []arrival
}

// add records a packet that arrived at at with audio pcm.
func (l *arrivalLog) add(at time.Time, pcm []int16) {
	loud := -1
	for i, s := range pcm {
		if s > onsetLevel || s < -onsetLevel {
			loud = i
			break
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.list) == maxArrivals {
		l.list = append(l.list[:0], l.list[maxArrivals/2:]...)
	}
	l.list = append(l.list, arrival{at, loud})
}

// onset returns when the first packet arriving after from and before to that holds a sample
// louder than onsetLevel arrived, plus that sample's offset in it; ok is false when none did.
func (l *arrivalLog) onset(from, to time.Time) (at time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.list {
		if a.loud >= 0 && a.at.After(from) && a.at.Before(to) {
			return a.at.Add(time.Duration(a.loud) * time.Second / codec.SampleRate), true
		}
	}
	return time.Time{}, false
}

// OnsetAfter returns when the phone first received a sound louder than onsetLevel after from
// and before to: the arrival of the packet that held it plus the sound's offset in the packet
// (see arrivalLog); ok is false when it heard none.
func (p *Phone) OnsetAfter(from, to time.Time) (at time.Time, ok bool) {
	return p.arrivals.onset(from, to)
}
