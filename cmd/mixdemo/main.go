// Command mixdemo shows confd's media engine at work, in simulated time and without a network:
// three participants, each with its own tone and codec (A 440 Hz on Opus, B 700 Hz on PCMU, C
// 1000 Hz on PCMA), send 20 ms RTP packets with a little network jitter into their jitter
// buffers; one mixer ticks every 20 ms; what each participant hears is decoded as its phone
// would and written as a WAV file, with the mix of everyone that a recorder would get.
//
// It prints, for each listener, the level of every tone in what it hears, which shows minus-one
// (nobody hears its own voice), and the jitter buffers' and the mixer's statistics. It exits 1
// when minus-one does not hold or a participant fails to hear the others, 2 on bad flags.
//
//	go run ./cmd/mixdemo -out out/demo
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"confd/bench"
	"confd/codec"
	"confd/jitter"
	"confd/mixer"
	"confd/testkit/audiotest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// participant is one of the demo's callers: what it says, how it is encoded, and what it hears.
type participant struct {
	name   string
	freq   float64 // its tone; 0 for the recorder, who says nothing
	format codec.Format
	id     mixer.ID
	buf    *jitter.Buffer
	// packets it sends, in order of arrival at the bridge
	packets []arrival
	next    int
	dec     codec.Decoder
	heard   []int16
}

// arrival is one RTP packet and the moment it reaches the bridge.
type arrival struct {
	at     time.Time
	packet jitter.Packet
}

// Demo constants: the tones' amplitude, the network's jitter and how much of the start the
// level table leaves out (the jitter buffers' start delay and the first talker selection).
const (
	toneAmplitude = bench.ToneAmplitude
	networkJitter = 8 * time.Millisecond
	settle        = time.Second
	// minusOneDB is how far below the others a listener's own tone must be.
	minusOneDB = 30
	// heardDB is the level, in dBFS, above which a tone counts as heard.
	heardDB = -30
)

func run(args []string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	fs := flag.NewFlagSet("mixdemo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "out/demo", "directory for the WAV files")
	duration := fs.Duration("duration", 4*time.Second, "simulated length of the call")
	seed := fs.Uint64("seed", 1, "seed of the network's jitter")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *duration < 2*settle {
		fmt.Fprintf(stderr, "mixdemo: -duration must be at least %v\n", 2*settle)
		return 2
	}
	if err := demo(*out, *duration, *seed, stdout); err != nil {
		log.Error("mixdemo failed", "err", err)
		return 1
	}
	return 0
}

// errMinusOne is returned when a listener hears itself or fails to hear another participant.
var errMinusOne = errors.New("minus-one does not hold")

func demo(dir string, duration time.Duration, seed uint64, stdout io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ps := []*participant{
		{name: "A", freq: 440, format: codec.Format{Codec: codec.Opus}},
		{name: "B", freq: 700, format: codec.Format{Codec: codec.PCMU}},
		{name: "C", freq: 1000, format: codec.Format{Codec: codec.PCMA}},
		{name: "room", format: codec.Format{Codec: codec.Opus}}, // a recorder: hears everyone, says nothing
	}
	mix := mixer.New(mixer.Config{})
	start := time.Unix(1_000_000, 0)
	ticks := int(duration / codec.FrameDuration)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i, p := range ps {
		p.id = mixer.ID(i + 1)
		var err error
		if p.dec, err = codec.NewDecoder(p.format.Codec); err != nil {
			return err
		}
		pc := mixer.ParticipantConfig{Format: p.format}
		if p.freq != 0 {
			if p.buf, err = jitter.New(jitter.Config{}); err != nil {
				return err
			}
			if p.packets, err = send(p, start, ticks, rng); err != nil {
				return err
			}
			pc.Source = p.buf
		}
		if err := mix.Add(p.id, pc); err != nil {
			return err
		}
	}

	var pcm [codec.MaxPacketSamples]int16
	for k := range ticks {
		now := start.Add(time.Duration(k) * codec.FrameDuration)
		for _, p := range ps {
			for ; p.next < len(p.packets) && !p.packets[p.next].at.After(now); p.next++ {
				if err := p.buf.Push(p.packets[p.next].packet, p.packets[p.next].at); err != nil {
					return fmt.Errorf("%s: %w", p.name, err)
				}
			}
		}
		mix.Tick(now)
		for _, p := range ps {
			// After DTX the phone conceals, which fades to silence.
			n, err := mix.Output(p.id).Decode(p.dec, pcm[:], p.format.Samples())
			if err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			p.heard = append(p.heard, pcm[:n]...)
		}
	}

	for _, p := range ps {
		file := p.name + "-hears.wav"
		if p.freq == 0 {
			file = p.name + "-mix.wav"
		}
		if err := audiotest.WriteWAV(filepath.Join(dir, file), codec.SampleRate, 1, p.heard); err != nil {
			return err
		}
	}
	err := report(stdout, ps, mix)
	fmt.Fprintf(stdout, "\nWAV files (48 kHz mono) in %s\n", dir)
	return err
}

// send makes the packets p's phone sends during the call: its tone encoded with its codec, one
// packet per 20 ms from a random phase against the mixer's tick, each delayed by the network
// by up to networkJitter.
func send(p *participant, start time.Time, ticks int, rng *rand.Rand) ([]arrival, error) {
	rec, err := bench.Record(p.format, 0, ticks, audiotest.NewTone(p.freq, toneAmplitude, codec.SampleRate).Fill)
	if err != nil {
		return nil, err
	}
	client := bench.NewClient(rec, rng.Uint32(), 0)
	phase := time.Duration(rng.Int64N(int64(codec.FrameDuration)))
	var out []arrival
	for i := range ticks {
		pkt, ok := client.Next()
		if !ok {
			continue
		}
		// The packet leaves when its 20 ms have been captured, and the network adds up to
		// networkJitter: less than a packet time, so packets arrive in order.
		at := start.Add(phase + time.Duration(i+1)*codec.FrameDuration + time.Duration(rng.Int64N(int64(networkJitter))))
		out = append(out, arrival{at: at, packet: pkt})
	}
	return out, nil
}

// report prints the level table and the statistics, and checks minus-one.
func report(w io.Writer, ps []*participant, mix *mixer.Mixer) error {
	var talkers []*participant
	for _, p := range ps {
		if p.freq != 0 {
			talkers = append(talkers, p)
		}
	}
	fmt.Fprintf(w, "What each participant hears, in dBFS per tone (after the first %v; each tone is sent at %.1f dBFS):\n\n",
		settle, 20*math.Log10(toneAmplitude))
	fmt.Fprintf(w, "%-16s", "listener")
	for _, t := range talkers {
		fmt.Fprintf(w, "%14s", fmt.Sprintf("%s %gHz", t.name, t.freq))
	}
	fmt.Fprintf(w, "  verdict\n")
	var failed error
	for _, p := range ps {
		skip := int(settle / codec.FrameDuration * codec.FrameSamples)
		var tail []int16
		if len(p.heard) > skip {
			tail = p.heard[skip:]
		}
		levels := make([]float64, len(talkers))
		fmt.Fprintf(w, "%-16s", fmt.Sprintf("%s (%s)", p.name, p.format.Codec))
		for i, t := range talkers {
			levels[i] = audiotest.ToneLevel(tail, codec.SampleRate, t.freq)
			fmt.Fprintf(w, "%14.1f", levels[i])
		}
		own := -1
		for i, t := range talkers {
			if t == p {
				own = i
			}
		}
		verdict, err := checkMinusOne(levels, own)
		if err != nil {
			verdict = "FAIL: " + err.Error()
			failed = fmt.Errorf("%w for %s: %v", errMinusOne, p.name, err)
		}
		fmt.Fprintf(w, "  %s\n", verdict)
	}

	fmt.Fprintf(w, "\nJitter buffers:\n")
	for _, p := range talkers {
		s := p.buf.Stats()
		fmt.Fprintf(w, "  %s %-28s pushed %d played %d late %d lost %d concealed %d expanded %d dropped %d, delay %v (target %v)\n",
			p.name, p.buf.String(), s.Pushed, s.Played, s.Late, s.Lost, s.Concealed, s.Expanded, s.Dropped,
			s.CurrentDelay.Round(100*time.Microsecond), s.TargetDelay.Round(100*time.Microsecond))
	}
	s := mix.Stats()
	fmt.Fprintf(w, "\nMixer: %d ticks, %d participants, %d talkers, %d output groups encoding, %d private listeners;\n",
		s.Ticks, s.Participants, s.Talkers, s.Groups, s.PrivateListeners)
	fmt.Fprintf(w, "       %d encodes (%d last tick), %d decodes (%d last tick), %d encoders made, %d encode errors\n",
		s.Encodes, s.EncodesLastTick, s.Decodes, s.DecodesLastTick, s.EncodersMade, s.EncodeErrors)
	for _, p := range ps {
		fmt.Fprintf(w, "  %s hears the %s group\n", p.name, mix.OutputGroup(p.id))
	}
	return failed
}

// checkMinusOne checks one listener's tone levels: every other participant's tone is heard
// (above heardDB) and its own (index own, -1 for none) is at least minusOneDB below the quietest
// of them. It returns the verdict to print.
func checkMinusOne(levels []float64, own int) (string, error) {
	quietest := math.Inf(1)
	for i, l := range levels {
		if i == own {
			continue
		}
		if l < heardDB {
			return "", fmt.Errorf("tone %d heard at %.1f dBFS, below %d", i, l, heardDB)
		}
		quietest = min(quietest, l)
	}
	if own < 0 {
		return "hears everyone", nil
	}
	down := quietest - levels[own]
	if down < minusOneDB {
		return "", fmt.Errorf("own voice only %.1f dB below the others", down)
	}
	return fmt.Sprintf("minus-one ok (own voice %.0f dB down)", down), nil
}
