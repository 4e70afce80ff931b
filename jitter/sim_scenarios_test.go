package jitter

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"confd/codec"
)

func TestCleanNetworkAddsAtMostOneFrame(t *testing.T) {
	for _, phase := range []time.Duration{0, 1 * time.Millisecond, 7 * time.Millisecond, 13 * time.Millisecond, 19900 * time.Microsecond} {
		b, _ := newFakeBuffer(t, Config{})
		sim := simulate(t, b, network{seed: 1, base: 30 * time.Millisecond}, 10*time.Second, phase)
		st := b.Stats()
		worst := maxDuration(sim.delays, 100) // after 2 s, once the start-up estimate is gone
		t.Logf("phase %v: worst delay %v, first %v, stats %+v", phase, worst, sim.delays[:3], st)
		if worst > 20*time.Millisecond {
			t.Errorf("phase %v: delay up to %v on a clean network, want at most one frame", phase, worst)
		}
		if st.Lost != 0 || st.Late != 0 || sim.stalls != 0 {
			t.Errorf("phase %v: lost %d late %d stalls %d on a clean network", phase, st.Lost, st.Late, sim.stalls)
		}
	}
}

func TestUniformJitterLosesFewLatePackets(t *testing.T) {
	b, _ := newFakeBuffer(t, Config{})
	sim := simulate(t, b, network{seed: 2, base: 30 * time.Millisecond, jitter: uniformJitter(30 * time.Millisecond)}, 60*time.Second, 5*time.Millisecond)
	st := b.Stats()
	late := float64(st.Late) / float64(st.Pushed)
	t.Logf("late %.3f%%, stats %+v, worst delay %v", 100*late, st, maxDuration(sim.delays, 100))
	if late > 0.01 {
		t.Errorf("late loss %.2f%% with 30 ms uniform jitter, want at most 1%%", 100*late)
	}
}

func TestDelayRecoversAfterJitterSpike(t *testing.T) {
	const spikeStart, spikeEnd = 10 * time.Second, 12 * time.Second
	calm := uniformJitter(5 * time.Millisecond)
	spike := uniformJitter(150 * time.Millisecond)
	nw := network{seed: 3, base: 30 * time.Millisecond, jitter: func(send time.Duration, r *rand.Rand) time.Duration {
		if send >= spikeStart && send < spikeEnd {
			return spike(send, r)
		}
		return calm(send, r)
	}}
	b, _ := newFakeBuffer(t, Config{})
	sim := simulate(t, b, nw, 30*time.Second, 3*time.Millisecond)
	tickOf := func(d time.Duration) int { return int(d / (20 * time.Millisecond)) }
	peak := maxDuration(sim.delayAt[tickOf(spikeStart):tickOf(spikeEnd)], 0)
	peakTarget := maxDuration(sim.targetAt[tickOf(spikeStart):tickOf(spikeEnd)], 0)
	recovered := -1
	for i := tickOf(spikeEnd); i < len(sim.delayAt); i++ {
		if maxDuration(sim.delayAt[i:min(i+tickOf(5*time.Second), len(sim.delayAt))], 0) < 40*time.Millisecond {
			recovered = i
			break
		}
	}
	t.Logf("spike: delay up to %v, target up to %v; back under 40 ms %v after it; stats %+v", peak, peakTarget,
		time.Duration(recovered-tickOf(spikeEnd))*20*time.Millisecond, b.Stats())
	if peakTarget < 100*time.Millisecond {
		t.Errorf("target rose only to %v during 150 ms of jitter", peakTarget)
	}
	if recovered < 0 || recovered-tickOf(spikeEnd) > tickOf(10*time.Second) {
		t.Errorf("delay not back under 40 ms (for good) within 10 s of the spike's end")
	}
}

func TestRandomLossIsConcealedWithoutStalling(t *testing.T) {
	b, _ := newFakeBuffer(t, Config{})
	sim := simulate(t, b, network{seed: 4, base: 30 * time.Millisecond, loss: 0.10}, 60*time.Second, 11*time.Millisecond)
	st := b.Stats()
	t.Logf("network lost %d; stats %+v", sim.lost, st)
	sim.assertNoGaps(t) // every tick holds a packet or a concealment
	if st.Lost != uint64(sim.lost) {
		t.Errorf("counted %d lost, the network lost %d", st.Lost, sim.lost)
	}
	if st.Late != 0 {
		t.Errorf("%d late packets without jitter", st.Late)
	}
}

func TestLossWithFECKeepsAFrameInHand(t *testing.T) {
	b, decs := newFakeBuffer(t, Config{})
	sim := simulate(t, b, network{seed: 5, base: 30 * time.Millisecond, loss: 0.05, fec: true}, 60*time.Second, 11*time.Millisecond)
	st := b.Stats()
	t.Logf("network lost %d; stats %+v; decoder %+v", sim.lost, st, *decs[codec.Opus])
	if st.FECRecovered < uint64(sim.lost)/2 {
		t.Errorf("FEC recovered %d of %d lost packets", st.FECRecovered, sim.lost)
	}
	if sim.stalls != 0 {
		t.Errorf("%d ticks without audio", sim.stalls)
	}
}

func TestBurstLossIsConcealed(t *testing.T) {
	b, _ := newFakeBuffer(t, Config{})
	sim := simulate(t, b, network{seed: 6, base: 30 * time.Millisecond, burst: 0.02, burstMax: 5, jitter: uniformJitter(10 * time.Millisecond)}, 60*time.Second, 2*time.Millisecond)
	st := b.Stats()
	t.Logf("network lost %d in bursts of up to 5; stats %+v", sim.lost, st)
	sim.assertNoGaps(t)
	if st.Lost != uint64(sim.lost) || st.Late > st.Pushed/100 {
		t.Errorf("lost %d (network %d), late %d", st.Lost, sim.lost, st.Late)
	}
}

func TestDeliveryBurstsAfterBlackouts(t *testing.T) {
	// Every 2 s the path holds packets for 120 ms and then delivers them at once (a Wi-Fi scan,
	// a congested uplink): the buffer conceals the hole, keeps what arrives in a heap, and is
	// back to a short delay between the bursts.
	const period, hold = 2 * time.Second, 120 * time.Millisecond
	nw := network{seed: 7, base: 30 * time.Millisecond, jitter: func(send time.Duration, r *rand.Rand) time.Duration {
		if in := send % period; send > period && in < hold {
			return hold - in
		}
		return time.Duration(r.Int64N(int64(2 * time.Millisecond)))
	}}
	b, _ := newFakeBuffer(t, Config{})
	sim := simulate(t, b, nw, 30*time.Second, 9*time.Millisecond)
	st := b.Stats()
	t.Logf("stats %+v", st)
	if sim.stalls != 0 {
		t.Errorf("%d ticks without audio", sim.stalls)
	}
	if st.CurrentDelay > DefaultMaxDelay {
		t.Errorf("delay %v after 15 blackouts", st.CurrentDelay)
	}
}

func TestSenderClockDrift(t *testing.T) {
	for _, drift := range []float64{-0.002, 0.002} {
		b, _ := newFakeBuffer(t, Config{})
		sim := simulate(t, b, network{seed: 8, base: 30 * time.Millisecond, drift: drift, jitter: uniformJitter(5 * time.Millisecond)}, 60*time.Second, 15*time.Millisecond)
		st := b.Stats()
		t.Logf("drift %+.1f%%: stats %+v", drift*100, st)
		// 0.2% of 60 s is 120 ms: six frames to insert or drop, and not many more.
		if st.Expanded > 15 || st.Dropped > 15 || sim.stalls != 0 || st.Late > 5 {
			t.Errorf("drift %+.1f%%: %d expansions, %d drops, %d stalls, %d late", drift*100, st.Expanded, st.Dropped, sim.stalls, st.Late)
		}
		if worst := maxDuration(sim.delays, 500); worst > 60*time.Millisecond {
			t.Errorf("drift %+.1f%%: delay up to %v", drift*100, worst)
		}
	}
}

// TestSenderStallWithContiguousTimestamps: a sender that stalls for 500 ms, then sends what was
// due in the last 200 ms at once and goes on with contiguous RTP timestamps (as a phone in a
// starved process does: the e2e test phones, issue 9 item 6) has moved its stream 280 ms later
// for good. The buffer must play it again within 300 ms, not drop every
// packet as late until the fast packets before the stall leave the two-second window.
func TestSenderStallWithContiguousTimestamps(t *testing.T) {
	const (
		stallAt   = 2 * time.Second
		stall     = 500 * time.Millisecond
		catchUp   = 200 * time.Millisecond
		frame     = 20 * time.Millisecond
		ticks     = 300
		tickPhase = 3 * time.Millisecond
	)
	for _, c := range []struct {
		name string
		pt   uint8
	}{{"pcmu", 0}, {"opus", 111}} {
		t.Run(c.name, func(t *testing.T) {
			b, _ := newFakeBuffer(t, Config{})
			t0 := time.Unix(1000, 0)
			var f codec.Frame
			seq, index := uint16(0), 0
			next := time.Duration(0) // the sender's schedule
			firstPlayedAfter := time.Duration(-1)
			for tick := range ticks {
				now := time.Duration(tick)*frame + tickPhase
				for next <= now && !(next >= stallAt && now < stallAt+stall) {
					if now-next > catchUp {
						next = now - catchUp
					}
					b.Push(Packet{PayloadType: c.pt, SequenceNumber: seq, Timestamp: uint32(index) * 960 / map[uint8]uint32{0: 6, 111: 1}[c.pt],
						SSRC: 7, Payload: fakePayload(index, codec.FrameSamples, false)}, t0.Add(now))
					seq++
					index++
					next += frame
				}
				a := b.Advance(t0.Add(now))
				played := a.Present && b.Read(&f) && f[codec.FrameSamples-1] > 0
				if played && now > stallAt+stall && firstPlayedAfter < 0 {
					firstPlayedAfter = now - (stallAt + stall)
				}
			}
			st := b.Stats()
			t.Logf("first packet played %v after the stall ended; stats %+v", firstPlayedAfter, st)
			if firstPlayedAfter < 0 || firstPlayedAfter > 300*time.Millisecond {
				t.Errorf("after a %v stall the stream played again %v after it ended, want within 300 ms", stall, firstPlayedAfter)
			}
			if st.CurrentDelay > 40*time.Millisecond {
				t.Errorf("the delay is %v, seconds after the stall; want it back at the clean network's", st.CurrentDelay)
			}
		})
	}
}

// TestMaxTargetBoundsTheTarget: 30 ms of uniform jitter raises the target to about 30 ms; with
// MaxTarget 5 ms (a cascade leg between nodes) it stays at 5 ms, and the audio keeps playing,
// the late packets concealed, instead of waiting for the slowest.
func TestMaxTargetBoundsTheTarget(t *testing.T) {
	nw := network{seed: 2, base: 30 * time.Millisecond, jitter: uniformJitter(30 * time.Millisecond)}
	b, _ := newFakeBuffer(t, Config{})
	sim := simulate(t, b, nw, 10*time.Second, 5*time.Millisecond)
	if top := maxDuration(sim.targetAt, 100); top < 20*time.Millisecond {
		t.Fatalf("unbounded target reached %v only, want the jitter's ~30 ms", top)
	}
	capped, _ := newFakeBuffer(t, Config{MaxTarget: 5 * time.Millisecond, StartDelay: time.Nanosecond})
	sim = simulate(t, capped, nw, 10*time.Second, 5*time.Millisecond)
	if top := maxDuration(sim.targetAt, 100); top > 5*time.Millisecond {
		t.Errorf("target reached %v with MaxTarget 5ms", top)
	}
	if st := capped.Stats(); st.Played < st.Pushed/2 {
		t.Errorf("with MaxTarget 5ms: %+v, want most packets played", st)
	}
	if _, err := New(Config{MinDelay: 10 * time.Millisecond, MaxTarget: 5 * time.Millisecond}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("MaxTarget below MinDelay: %v, want ErrBadConfig", err)
	}
}
