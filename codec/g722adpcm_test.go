package codec

import (
	"encoding/binary"
	"os"
	"testing"
)

// The vectors in testdata/g722 come from spandsp 0.0.6 (Debian's libspandsp, the G.722 that
// baresip, Asterisk and FreeSWITCH use and that passes the ITU test sequences) at 64 kbit/s:
// input.raw is one second of 16 kHz audio (tones in both bands, a 50 Hz–7.9 kHz chirp, noise, a
// full-scale square wave that saturates, silence, a quiet tone); spandsp.g722 is its encoding in
// 320-sample calls and spandsp-decoded.raw the decoding of that in 160-byte calls;
// random-decoded.raw is the decoding of the 4000 random bytes of random.g722, which reach every
// code.

// readRaw16 reads a file of 16-bit little-endian samples, or fails the test.
func readRaw16(t *testing.T, path string) []int16 {
	t.Helper()
	b := readBytes(t, path)
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

// readBytes reads a file, or fails the test.
func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestG722BitExactWithSpandsp(t *testing.T) {
	in := readRaw16(t, "testdata/g722/input.raw")
	wantCodes := readBytes(t, "testdata/g722/spandsp.g722")
	wantPCM := readRaw16(t, "testdata/g722/spandsp-decoded.raw")

	var enc g722State
	enc.reset()
	codes := make([]byte, len(in)/2)
	for i := 0; i < len(in); i += 320 {
		enc.encode(in[i:i+320], codes[i/2:])
	}
	for i := range codes {
		if codes[i] != wantCodes[i] {
			t.Fatalf("encoder: byte %d is %#02x, spandsp %#02x", i, codes[i], wantCodes[i])
		}
	}

	var dec g722State
	dec.reset()
	pcm := make([]int16, len(in))
	for i := 0; i < len(wantCodes); i += 160 {
		dec.decode(wantCodes[i:i+160], pcm[2*i:])
	}
	compareDecoded(t, "decoder", pcm, wantPCM)

	random := readBytes(t, "testdata/g722/random.g722")
	wantRandom := readRaw16(t, "testdata/g722/random-decoded.raw")
	dec.reset()
	out := make([]int16, 2*len(random))
	dec.decode(random, out)
	compareDecoded(t, "decoder on random codes", out, wantRandom)
}

// compareDecoded requires got to equal spandsp's want except where spandsp's output QMF
// overflowed: spandsp casts the QMF sum to int16 and wraps around (a full-scale click), where
// this decoder saturates as the ITU's 16-bit arithmetic does.
func compareDecoded(t *testing.T, what string, got, want []int16) {
	t.Helper()
	saturated := 0
	for i := range got {
		if got[i] == want[i] {
			continue
		}
		if (got[i] == 32767 && want[i] < 0) || (got[i] == -32768 && want[i] > 0) {
			saturated++
			continue
		}
		t.Fatalf("%s: sample %d is %d, spandsp %d", what, i, got[i], want[i])
	}
	t.Logf("%s: %d samples equal to spandsp, %d saturated where spandsp wrapped around", what, len(got)-saturated, saturated)
}
