package jitter

import (
	"sync"
	"testing"
	"time"

	"confd/codec"
)

// lossyTicker returns a step of a stream of 20 ms packets with payload(i) into b: every tenth
// packet lost, so that concealment and FEC run too, and every seventh tick not read, so that
// skipped decodes do. *i counts the steps.
func lossyTicker(b *Buffer, i *int, payload func(i int) []byte) func() {
	var f codec.Frame
	return func() {
		now := tickTime(*i)
		if p := payload(*i); *i%10 != 3 && len(p) > 0 {
			_ = b.Push(opusPacket(9, *i, p), now.Add(time.Duration(*i%3)*time.Millisecond))
		}
		b.Advance(now.Add(5 * time.Millisecond))
		if *i%7 != 0 {
			b.Read(&f)
		}
		*i++
	}
}

func TestHotPathsAllocateNothing(t *testing.T) {
	b, _ := newFakeBuffer(t, Config{})
	payloads := [2][]byte{fakePayload(1, 960, true), fakePayload(2, 960, false)}
	var f codec.Frame
	i := 0
	pushAndTick := lossyTicker(b, &i, func(i int) []byte { return payloads[i%2] })
	for range 200 {
		pushAndTick()
	}
	if n := testing.AllocsPerRun(1000, pushAndTick); n != 0 {
		t.Errorf("Push+Advance+Read allocate %.1f times", n)
	}
	push := func() {
		p := opusPacket(9, i, payloads[0])
		_ = b.Push(p, tickTime(i))
		i++
	}
	if n := testing.AllocsPerRun(1000, push); n != 0 {
		t.Errorf("Push allocates %.1f times", n)
	}
	tick := func() {
		b.Advance(tickTime(i))
		b.Read(&f)
		i++
	}
	if n := testing.AllocsPerRun(1000, tick); n != 0 {
		t.Errorf("Advance+Read allocate %.1f times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { _ = b.Stats() }); n != 0 {
		t.Errorf("Stats allocates %.1f times", n)
	}
}

func TestRealOpusPathAllocatesNothing(t *testing.T) {
	enc := mustEncoder(t, codec.Format{Codec: codec.Opus, ExpectedLoss: 10})
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var pcm codec.Frame
	for j := range pcm {
		pcm[j] = int16(j * 37 % 8000)
	}
	payload := make([]byte, codec.MaxPayloadSize)
	i := 0
	run := lossyTicker(b, &i, func(int) []byte {
		n, err := enc.Encode(pcm[:], payload)
		if err != nil {
			t.Fatal(err)
		}
		return payload[:n]
	})
	for range 200 {
		run()
	}
	if n := testing.AllocsPerRun(500, run); n != 0 {
		t.Errorf("Opus encode+Push+Advance+Read allocate %.1f times", n)
	}
	if st := b.Stats(); st.FECRecovered == 0 || st.Played == 0 {
		t.Errorf("stats %+v: the loop did not exercise decode and FEC", st)
	}
}

// TestConcurrentPushAndTick runs the leg's reader and the room's tick on two goroutines, for the
// race detector, while a third reads Stats.
func TestConcurrentPushAndTick(t *testing.T) {
	b, _ := newFakeBuffer(t, Config{})
	const n = 2000
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		for i := range n {
			_ = b.Push(opusPacket(9, i, fakePayload(i, 960, false)), tickTime(i))
		}
	}()
	go func() {
		defer wg.Done()
		var f codec.Frame
		for i := range n {
			b.Advance(tickTime(i))
			b.Read(&f)
		}
	}()
	go func() {
		defer wg.Done()
		for range n {
			_ = b.Stats()
		}
	}()
	wg.Wait()
	if st := b.Stats(); st.Pushed != n {
		t.Errorf("stats %+v", st)
	}
}
