package codec

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"confd/testkit/audiotest"
)

// resampleAll pushes in through r in 20 ms chunks of the input rate, as the engine does, and
// returns everything it wrote.
func resampleAll(t *testing.T, r *Resampler, in []int16) []int16 {
	t.Helper()
	step := r.InRate() / 50
	out := make([]int16, 0, len(in)*r.OutRate()/r.InRate()+8)
	buf := make([]int16, step*r.OutRate()/r.InRate()+1)
	for i := 0; i < len(in); i += step {
		end := min(i+step, len(in))
		want := r.OutputLen(end - i)
		n := r.Process(in[i:end], buf)
		if n != want {
			t.Fatalf("%v: Process wrote %d samples, OutputLen said %d", r, n, want)
		}
		out = append(out, buf[:n]...)
	}
	return out
}

// rateDirs is every pair of distinct rates confd resamples between.
var rateDirs = [][2]int{{48000, 8000}, {8000, 48000}, {48000, 16000}, {16000, 48000}, {16000, 8000}, {8000, 16000}}

// settle is the output dropped before measuring, past the filter's start-up transient.
func settle(r *Resampler) int { return 2 * r.Delay() }

func TestResamplerPassbandIsFlat(t *testing.T) {
	for _, d := range rateDirs {
		r, err := NewResampler(d[0], d[1])
		if err != nil {
			t.Fatal(err)
		}
		edge := 3400.0
		if min(d[0], d[1]) == 16000 {
			edge = 7000
		}
		worst := 0.0
		for _, f := range []float64{100, 300, 1000, 2000, 3000, 3400, 5000, 6000, 7000} {
			if f > edge {
				continue
			}
			r.Reset()
			in := audiotest.Generate(f, 0.5, d[0], d[0]/4)
			out := resampleAll(t, r, in)[settle(r):]
			gain := audiotest.ToneLevel(out, d[1], f) - audiotest.ToneLevel(in, d[0], f)
			worst = math.Max(worst, math.Abs(gain))
			if math.Abs(gain) > 1 {
				t.Errorf("%v: %.0f Hz passes with %+.2f dB, want within 1 dB", r, f, gain)
			}
			checkTone(t, r.String(), out, d[1], f, 40)
		}
		t.Logf("%v: passband to %.0f Hz flat within %.3f dB", r, edge, worst)
	}
}

func TestResamplerStopbandGoingDown(t *testing.T) {
	cases := []struct {
		in, out int
		freqs   []float64
	}{
		{48000, 8000, []float64{4500, 6000, 10000, 20000}},
		{48000, 16000, []float64{9000, 12000, 20000}},
		{16000, 8000, []float64{4500, 6000, 7500}},
	}
	for _, c := range cases {
		r, _ := NewResampler(c.in, c.out)
		for _, f := range c.freqs {
			r.Reset()
			in := audiotest.Generate(f, 0.5, c.in, c.in/4)
			out := resampleAll(t, r, in)[settle(r):]
			atten := audiotest.RMS(in) - audiotest.RMS(out)
			if atten < 60 {
				t.Errorf("%v: %.0f Hz attenuated by %.1f dB, want ≥ 60", r, f, atten)
			} else {
				t.Logf("%v: %.0f Hz attenuated by %.1f dB", r, f, atten)
			}
		}
	}
}

func TestResamplerImagesGoingUp(t *testing.T) {
	// An upsampler's images of a passband tone are what the same filter must remove.
	for _, d := range [][2]int{{8000, 48000}, {16000, 48000}, {8000, 16000}} {
		r, _ := NewResampler(d[0], d[1])
		in := audiotest.Generate(1000, 0.5, d[0], d[0]/4)
		out := resampleAll(t, r, in)[settle(r):]
		checkTone(t, r.String()+" images", out, d[1], 1000, 60)
	}
}

func TestResamplerDelay(t *testing.T) {
	// Three tones with no common period shorter than a second give one clear correlation peak.
	signal := func(rate, n int) []int16 {
		pcm := make([]int16, n)
		for i := range pcm {
			x := float64(i) / float64(rate)
			pcm[i] = int16(6000 * (math.Sin(2*math.Pi*313*x) + math.Sin(2*math.Pi*771*x+1) + math.Sin(2*math.Pi*1337*x+2)))
		}
		return pcm
	}
	for _, d := range rateDirs {
		r, _ := NewResampler(d[0], d[1])
		out := resampleAll(t, r, signal(d[0], d[0]/2))
		ref := signal(d[1], d[1]/2)
		lag := audiotest.Delay(ref, out)
		ms := float64(lag) * 1000 / float64(d[1])
		if lag < r.Delay()-1 || lag > r.Delay()+1 || ms > 3 {
			t.Errorf("%v: measured delay %d samples (%.2f ms), Delay() %d; want ≤ 3 ms", r, lag, ms, r.Delay())
		} else {
			t.Logf("%v: delay %d samples = %.2f ms", r, lag, ms)
		}
	}
}

func TestResamplerIsSeamlessAcrossOddChunks(t *testing.T) {
	// Feeding the same stream in uneven pieces gives the same samples as in whole frames.
	for _, d := range rateDirs {
		whole, _ := NewResampler(d[0], d[1])
		pieces, _ := NewResampler(d[0], d[1])
		in := audiotest.Generate(440, 0.5, d[0], d[0]/5)
		want := resampleAll(t, whole, in)
		var got []int16
		buf := make([]int16, 4000)
		for i, step := 0, 1; i < len(in); i, step = i+step, step%1013+37 {
			end := min(i+step, len(in))
			n := pieces.Process(in[i:end], buf)
			got = append(got, buf[:n]...)
		}
		if len(got) != len(want) {
			t.Fatalf("%v: %d samples in pieces, %d in frames", whole, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%v: sample %d differs: %d in pieces, %d in frames", whole, i, got[i], want[i])
			}
		}
	}
}

func TestResamplerEdges(t *testing.T) {
	for _, bad := range [][2]int{{44100, 48000}, {8000, 0}, {48000, 24000}} {
		if _, err := NewResampler(bad[0], bad[1]); !errors.Is(err, ErrBadFormat) {
			t.Errorf("NewResampler(%d, %d) = %v, want ErrBadFormat", bad[0], bad[1], err)
		}
	}
	same, _ := NewResampler(16000, 16000)
	in := []int16{1, 2, 3}
	out := make([]int16, 3)
	if n := same.Process(in, out); n != 3 || out[2] != 3 || same.Delay() != 0 {
		t.Errorf("equal rates: %d samples %v delay %d", n, out, same.Delay())
	}
	// Full-scale input clips instead of wrapping around.
	r, _ := NewResampler(8000, 48000)
	sq := make([]int16, 160)
	for i := range sq {
		sq[i] = 32767
		if i/20%2 == 1 {
			sq[i] = -32768
		}
	}
	up := make([]int16, 960)
	r.Process(sq, up)
	for i := 200; i < 960; i++ {
		if up[i] > 0 != (up[i-1] > 0) && (up[i] > 30000 || up[i] < -30000) && (up[i-1] > 30000 || up[i-1] < -30000) {
			t.Fatalf("sample %d jumps from %d to %d: wrap-around", i, up[i-1], up[i])
		}
	}
	// A short out buffer drops the excess instead of panicking.
	if n := r.Process(sq, up[:10]); n != 960 {
		t.Errorf("short out: returned %d", n)
	}
	if s := r.String(); s != "resample(8000→48000)" {
		t.Errorf("String() = %q", s)
	}
}

func TestResamplerAllocatesNothing(t *testing.T) {
	for _, d := range rateDirs {
		r, _ := NewResampler(d[0], d[1])
		in := audiotest.Generate(440, 0.5, d[0], d[0]/50)
		out := make([]int16, d[1]/50)
		if a := testing.AllocsPerRun(50, func() { r.Process(in, out) }); a != 0 {
			t.Errorf("%v: %v allocs per frame", r, a)
		}
	}
}

func BenchmarkResample(b *testing.B) {
	for _, d := range rateDirs {
		b.Run(fmt.Sprintf("%dto%d", d[0]/1000, d[1]/1000), func(b *testing.B) {
			r, _ := NewResampler(d[0], d[1])
			in := audiotest.Generate(440, 0.5, d[0], d[0]/50)
			out := make([]int16, d[1]/50)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.Process(in, out)
			}
			reportPerFrame(b)
		})
	}
}
