package dtmf

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// FuzzReceiver reads its input as a sequence of 9-byte packets (timestamp, marker, payload)
// pushed 20 ms apart. It must never panic, report only valid keys, count every digit it
// reports, and never report an event whose timestamp is among the four reported before it.
// Seeds: testdata/fuzz/FuzzReceiver.
func FuzzReceiver(f *testing.F) {
	var seed []byte
	for _, d := range []Digit{'1', '#'} {
		pk, _ := AppendPackets(nil, d, 100*time.Millisecond, uint32(d)*1000, SenderConfig{})
		for _, p := range pk {
			seed = binary.BigEndian.AppendUint32(seed, p.Timestamp)
			m := byte(0)
			if p.Marker {
				m = 1
			}
			seed = append(seed, m)
			seed = append(seed, p.Payload[:]...)
		}
	}
	f.Add(seed)
	f.Add(seed[9:])
	f.Add([]byte{0, 0, 0, 1, 1, 16, 0x80, 0, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReceiver(ReceiverConfig{ClockRate: 48000})
		if err != nil {
			t.Fatal(err)
		}
		reported := 0
		var last []uint32
		check := func(d Detection) {
			for _, ts := range last {
				if ts == d.Timestamp {
					t.Fatalf("event %d reported again: %+v", ts, d)
				}
			}
			last = append(last, d.Timestamp)
			if len(last) > 4 {
				last = last[1:]
			}
		}
		now := t0
		for len(in) >= 9 {
			ts := binary.BigEndian.Uint32(in)
			ds, err := r.Push(now, ts, in[4]&1 == 1, in[5:9])
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if !d.Digit.Valid() {
					t.Fatalf("invalid digit %+v", d)
				}
				check(d)
			}
			reported += len(ds)
			if d, ok := r.Expire(now); ok {
				check(d)
				reported++
			}
			now = now.Add(20 * time.Millisecond)
			in = in[9:]
		}
		if _, ok := r.Flush(); ok {
			reported++
		}
		if s := r.Stats(); s.Digits != uint64(reported) {
			t.Fatalf("stats say %d digits, %d reported", s.Digits, reported)
		}
		if len(in) > 0 && len(in) < 4 {
			if _, err := r.Push(now, 0, false, in); !errors.Is(err, ErrShortPayload) {
				t.Fatalf("short payload: %v", err)
			}
		}
	})
}

// FuzzParseInfo feeds arbitrary bodies to ParseInfo under both content types: no panic, a
// success is a valid key whose dtmf-relay body, written back, parses to the same thing.
// Seeds: testdata/fuzz/FuzzParseInfo.
func FuzzParseInfo(f *testing.F) {
	for _, s := range []string{"Signal=5\r\nDuration=160\r\n", "Signal= #\r\n", "signal=10", "7", "Signal=1\nDuration=x", "Duration=1"} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, plain bool, body []byte) {
		ct := ContentTypeDTMFRelay
		if plain {
			ct = ContentTypeDTMF
		}
		d, dur, err := ParseInfo(ct, body)
		if err != nil {
			if !errors.Is(err, ErrInfoBody) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !d.Valid() || dur < 0 {
			t.Fatalf("%q %v", d, dur)
		}
		b, err := FormatDTMFRelay(d, dur)
		if err != nil {
			t.Fatal(err)
		}
		d2, dur2, err := ParseInfo(ContentTypeDTMFRelay, b)
		if err != nil || d2 != d || dur2 != dur {
			t.Fatalf("round trip %q %v: %q %v %v", d, dur, d2, dur2, err)
		}
	})
}
