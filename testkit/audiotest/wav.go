package audiotest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"confd/testkit"
)

// ErrNotWAV is returned by ReadWAV for a file that is not 16-bit PCM RIFF/WAVE.
var ErrNotWAV = errors.New("audiotest: not a 16-bit PCM WAV file")

// WriteWAV writes pcm (interleaved when channels > 1) as a 16-bit PCM WAV file.
func WriteWAV(path string, rate, channels int, pcm []int16) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := EncodeWAV(f, rate, channels, pcm); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ToneWAV writes seconds of a sine of hz at amplitude amp (0..1 of full scale), the same on each
// of channels, as a 16-bit PCM WAV file at rate in a new temporary directory of the test, and
// returns its path: hold music or a prompt whose frequency the test then listens for.
func ToneWAV(t testkit.TB, rate, channels int, hz, amp, seconds float64) string {
	t.Helper()
	mono := make([]int16, int(float64(rate)*seconds))
	NewTone(hz, amp, rate).Fill(mono)
	pcm := make([]int16, 0, len(mono)*channels)
	for _, s := range mono {
		for range channels {
			pcm = append(pcm, s)
		}
	}
	path := filepath.Join(t.TempDir(), "tone.wav")
	if err := WriteWAV(path, rate, channels, pcm); err != nil {
		t.Fatal(err)
	}
	return path
}

// EncodeWAV writes pcm as a 16-bit PCM WAV stream to w.
func EncodeWAV(w io.Writer, rate, channels int, pcm []int16) error {
	dataLen := uint32(2 * len(pcm))
	hdr := make([]byte, 44)
	copy(hdr[0:], "RIFF")
	binary.LittleEndian.PutUint32(hdr[4:], 36+dataLen)
	copy(hdr[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(hdr[16:], 16)
	binary.LittleEndian.PutUint16(hdr[20:], 1) // PCM
	binary.LittleEndian.PutUint16(hdr[22:], uint16(channels))
	binary.LittleEndian.PutUint32(hdr[24:], uint32(rate))
	binary.LittleEndian.PutUint32(hdr[28:], uint32(rate*channels*2))
	binary.LittleEndian.PutUint16(hdr[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(hdr[34:], 16)
	copy(hdr[36:], "data")
	binary.LittleEndian.PutUint32(hdr[40:], dataLen)
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	body := make([]byte, dataLen)
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(body[2*i:], uint16(s))
	}
	_, err := w.Write(body)
	return err
}

// ReadWAV reads a 16-bit PCM WAV file and returns its rate, channel count and interleaved samples.
// It tolerates extra chunks and a data length left at zero or too large by a writer that was
// killed (as a recorder of a real peer may be), reading the data to the end of the file then.
func ReadWAV(path string) (rate, channels int, pcm []int16, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, nil, err
	}
	return DecodeWAV(b)
}

// DecodeWAV parses a 16-bit PCM WAV file held in b; see ReadWAV.
func DecodeWAV(b []byte) (rate, channels int, pcm []int16, err error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, 0, nil, ErrNotWAV
	}
	pos := 12
	var haveFmt bool
	for pos+8 <= len(b) {
		id := string(b[pos : pos+4])
		size := int(binary.LittleEndian.Uint32(b[pos+4:]))
		body := pos + 8
		switch id {
		case "fmt ":
			if body+16 > len(b) {
				return 0, 0, nil, ErrNotWAV
			}
			format := binary.LittleEndian.Uint16(b[body:])
			channels = int(binary.LittleEndian.Uint16(b[body+2:]))
			rate = int(binary.LittleEndian.Uint32(b[body+4:]))
			bits := binary.LittleEndian.Uint16(b[body+14:])
			if (format != 1 && format != 0xFFFE) || bits != 16 || channels < 1 {
				return 0, 0, nil, fmt.Errorf("%w: format %d, %d bits, %d channels", ErrNotWAV, format, bits, channels)
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return 0, 0, nil, ErrNotWAV
			}
			end := body + size
			if size == 0 || end > len(b) {
				end = len(b)
			}
			n := (end - body) / 2
			pcm = make([]int16, n)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(b[body+2*i:]))
			}
			return rate, channels, pcm, nil
		}
		pos = body + size + size&1
	}
	return 0, 0, nil, fmt.Errorf("%w: no data chunk", ErrNotWAV)
}

// Mono returns the first channel of interleaved pcm with the given channel count.
func Mono(pcm []int16, channels int) []int16 {
	if channels <= 1 {
		return pcm
	}
	out := make([]int16, len(pcm)/channels)
	for i := range out {
		out[i] = pcm[i*channels]
	}
	return out
}
