package codec

import (
	"errors"
	"testing"
)

func TestOpusPacketSamples(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		want    int // 0 means ErrCorruptPayload
	}{
		{"empty", nil, 0},
		{"SILK NB 10 ms code 0", []byte{0 << 3, 1, 2}, 480},
		{"SILK WB 60 ms code 0", []byte{11 << 3, 1}, 2880},
		{"hybrid FB 20 ms, DTX", []byte{15 << 3}, 960},
		{"CELT FB 2.5 ms", []byte{28 << 3, 9}, 120},
		{"CELT 20 ms code 1", []byte{31<<3 | 1, 1, 2}, 1920},
		{"code 1 odd length", []byte{31<<3 | 1, 1, 2, 3}, 0},
		{"code 1 empty frames", []byte{31<<3 | 1}, 1920},
		{"code 2", []byte{1<<3 | 2, 2, 7, 7, 8}, 1920},
		{"code 2 first frame too long", []byte{1<<3 | 2, 9, 7}, 0},
		{"code 2 no length", []byte{1<<3 | 2}, 0},
		{"code 2 two-byte length", append([]byte{1<<3 | 2, 252, 1}, make([]byte, 256)...), 1920},
		{"code 3 CBR 3 frames", []byte{1<<3 | 3, 3, 1, 2, 3}, 2880},
		{"code 3 CBR uneven", []byte{1<<3 | 3, 3, 1, 2, 3, 4}, 0},
		{"code 3 no count", []byte{1<<3 | 3}, 0},
		{"code 3 zero frames", []byte{1<<3 | 3, 0}, 0},
		{"code 3 over 120 ms", []byte{3<<3 | 3, 3}, 0},
		{"code 3 120 ms of 60 ms frames", []byte{3<<3 | 3, 2}, 5760},
		{"code 3 48 frames of 2.5 ms", []byte{16<<3 | 3, 48}, 5760},
		{"code 3 49 frames of 2.5 ms", []byte{16<<3 | 3, 49}, 0},
		{"code 3 VBR", []byte{1<<3 | 3, 0x80 | 2, 1, 5, 6, 7}, 1920},
		{"code 3 VBR length past end", []byte{1<<3 | 3, 0x80 | 2, 9, 5}, 0},
		{"code 3 padding", []byte{1<<3 | 3, 0x40 | 1, 2, 5, 0, 0}, 960},
		{"code 3 padding past end", []byte{1<<3 | 3, 0x40 | 1, 9, 5}, 0},
		{"code 3 padding 255 chain", append([]byte{1<<3 | 3, 0x40 | 1, 255, 0}, make([]byte, 254)...), 960},
		{"code 0 frame over 1275 bytes", make([]byte, 1277), 0},
	}
	for _, c := range cases {
		got, err := OpusPacketSamples(c.payload)
		if c.want == 0 {
			if !errors.Is(err, ErrCorruptPayload) {
				t.Errorf("%s: got %d, %v; want ErrCorruptPayload", c.name, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %d, %v; want %d", c.name, got, err, c.want)
		}
	}
}

func TestOpusIsDTX(t *testing.T) {
	cases := []struct {
		payload []byte
		want    bool
	}{
		{nil, true},
		{[]byte{15 << 3}, true},
		{[]byte{15 << 3, 0x55}, true},
		{[]byte{15 << 3, 1, 2}, false},
		{[]byte{15<<3 | 3, 0x40 | 2, 1, 0}, true},    // two empty CBR frames and padding
		{[]byte{15<<3 | 3, 0x80 | 2, 1, 7, 8}, true}, // VBR frames of one byte each
		{[]byte{15<<3 | 3, 0x80 | 2, 1, 7, 8, 9}, false},
		{[]byte{15<<3 | 3, 0, 1}, false}, // malformed: not DTX, let the decoder reject it
	}
	for _, c := range cases {
		if got := OpusIsDTX(c.payload); got != c.want {
			t.Errorf("OpusIsDTX(%x) = %v, want %v", c.payload, got, c.want)
		}
	}
}

func TestOpusHasFECOnNonSILK(t *testing.T) {
	// CELT-only packets never carry LBRR, whatever their bytes.
	for _, b := range []byte{0x00, 0x7f, 0xff} {
		if OpusHasFEC([]byte{31 << 3, b, b, b}) {
			t.Errorf("CELT packet with byte %#x reported FEC", b)
		}
	}
	if OpusHasFEC([]byte{15 << 3}) || OpusHasFEC(nil) {
		t.Error("DTX or empty packet reported FEC")
	}
}

func TestFormatNormalizedAndValidate(t *testing.T) {
	cases := []struct {
		in      Format
		norm    Format
		wantErr error
	}{
		{Format{Codec: Opus}, Format{Codec: Opus, PacketTime: FrameDuration, Bitrate: 32000, Complexity: 5}, nil},
		{Format{Codec: PCMU, Bitrate: 64000, ExpectedLoss: 5, NoDTX: true}, Format{Codec: PCMU, PacketTime: FrameDuration}, nil},
		{Format{Codec: Opus, Complexity: ComplexityZero}, Format{Codec: Opus, PacketTime: FrameDuration, Bitrate: 32000, Complexity: ComplexityZero}, nil},
		{Format{Codec: Opus, PacketTime: 3 * FrameDuration, Bitrate: 510000, Complexity: 10, ExpectedLoss: 100}, Format{Codec: Opus, PacketTime: 3 * FrameDuration, Bitrate: 510000, Complexity: 10, ExpectedLoss: 100}, nil},
		{Format{}, Format{PacketTime: FrameDuration}, ErrUnknownCodec},
		{Format{Codec: 99}, Format{Codec: 99, PacketTime: FrameDuration}, ErrUnknownCodec},
		{Format{Codec: PCMA, PacketTime: FrameDuration / 2}, Format{Codec: PCMA, PacketTime: FrameDuration / 2}, ErrBadFormat},
		{Format{Codec: PCMA, PacketTime: 7 * FrameDuration}, Format{Codec: PCMA, PacketTime: 7 * FrameDuration}, ErrBadFormat},
		{Format{Codec: Opus, Bitrate: 5999}, Format{Codec: Opus, PacketTime: FrameDuration, Bitrate: 5999, Complexity: 5}, ErrBadFormat},
		{Format{Codec: Opus, Complexity: 11}, Format{Codec: Opus, PacketTime: FrameDuration, Bitrate: 32000, Complexity: 11}, ErrBadFormat},
		{Format{Codec: Opus, ExpectedLoss: -1}, Format{Codec: Opus, PacketTime: FrameDuration, Bitrate: 32000, Complexity: 5, ExpectedLoss: -1}, ErrBadFormat},
	}
	for _, c := range cases {
		if got := c.in.Normalized(); got != c.norm {
			t.Errorf("%+v.Normalized() = %+v, want %+v", c.in, got, c.norm)
		}
		err := c.in.Validate()
		if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
			t.Errorf("%+v.Validate() = %v, want %v", c.in, err, c.wantErr)
		}
		enc, err := NewEncoder(c.in)
		if c.wantErr != nil {
			if !errors.Is(err, c.wantErr) {
				t.Errorf("NewEncoder(%+v) = %v, want %v", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewEncoder(%+v): %v", c.in, err)
			continue
		}
		if enc.Format() != c.norm {
			t.Errorf("NewEncoder(%+v).Format() = %+v, want %+v", c.in, enc.Format(), c.norm)
		}
	}
}

func TestRegistry(t *testing.T) {
	for _, c := range []Codec{Opus, PCMU, PCMA, G722} {
		dec, err := NewDecoder(c)
		if err != nil || dec.Codec() != c {
			t.Errorf("NewDecoder(%v) = %v, %v", c, dec, err)
		}
	}
	if _, err := NewDecoder(0); !errors.Is(err, ErrUnknownCodec) {
		t.Errorf("NewDecoder(0) = %v, want ErrUnknownCodec", err)
	}
}
