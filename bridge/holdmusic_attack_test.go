package bridge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"confd/testkit"
)

// TestHoldMusicFileIsBounded (red team, issue 13): a hold-music path that is not a sane audio
// file is refused quickly and without taking memory: a device that never ends (/dev/zero), a
// FIFO nobody writes to (the open would block for ever), a directory, a WAV whose header
// promises hours, and an Ogg/Opus bomb (a small file that decodes to far more than
// MaxHoldMusic, or one of empty packets).
func TestHoldMusicFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	// A WAV at 8 kHz whose data decodes to 11 minutes at 48 kHz.
	long := filepath.Join(dir, "long.wav")
	n := (int(MaxHoldMusic/time.Second) + 60) * 8000
	var wav bytes.Buffer
	wav.WriteString("RIFF\x00\x00\x00\x00WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		_ = binary.Write(&wav, binary.LittleEndian, v)
	}
	wav.WriteString("data")
	_ = binary.Write(&wav, binary.LittleEndian, uint32(2*n))
	wav.Write(make([]byte, 2*n))
	if err := os.WriteFile(long, wav.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// Ogg pages: OpusHead, OpusTags, then 120 ms packets of 3 bytes (code 3, 6 × 20 ms of
	// CELT silence): each decodes to 5760 samples, 3800 times its size.
	page := func(pkts ...[]byte) []byte {
		var lacing, body []byte
		for _, p := range pkts {
			lacing = append(lacing, byte(len(p)))
			body = append(body, p...)
		}
		h := append([]byte("OggS"), make([]byte, 22)...)
		h = append(h, byte(len(lacing)))
		return append(append(h, lacing...), body...)
	}
	head := append([]byte("OpusHead\x01\x01"), make([]byte, 9)...)
	var bomb bytes.Buffer
	bomb.Write(page(head))
	bomb.Write(page([]byte("OpusTags")))
	tiny := []byte{0xf8 | 3, 6} // TOC: CELT FB 20 ms, code 3; 6 frames, CBR, each empty (silence)
	var pkts [][]byte
	for range 255 {
		pkts = append(pkts, tiny)
	}
	for range (int(MaxHoldMusic/time.Second)+60)*1000/120/255 + 1 {
		bomb.Write(page(pkts...))
	}
	bombPath := filepath.Join(dir, "bomb.opus")
	if err := os.WriteFile(bombPath, bomb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// Pages of zero lacing values: 255 empty packets per 282 bytes.
	var empties bytes.Buffer
	empties.Write(page(head))
	empties.Write(page([]byte("OpusTags")))
	zeros := page(make([][]byte, 255)...)
	for range 2000 {
		empties.Write(zeros)
	}
	emptiesPath := filepath.Join(dir, "empties.opus")
	if err := os.WriteFile(emptiesPath, empties.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, path := range append(testkit.HostilePaths(t), long, bombPath) {
		var err error
		testkit.ReturnsWithin(t, 10*time.Second, "DecodeHoldMusic("+path+")", func() { _, err = DecodeHoldMusic(path) })
		if !errors.Is(err, ErrBadHoldMusic) {
			t.Errorf("%s: %v, want ErrBadHoldMusic", path, err)
		}
	}
	// The file of empty packets decodes (to nothing but what PLC makes, bounded) or is
	// refused; either way without a list of 510000 packets.
	if m, err := DecodeHoldMusic(emptiesPath); err == nil && m.Duration() > MaxHoldMusic {
		t.Errorf("empty packets: %v of music", m.Duration())
	}
}
