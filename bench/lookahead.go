package bench

/*
#cgo pkg-config: opus
#include <opus.h>

// confd_opus_lookahead asks libopus for the look-ahead of an encoder made as confd's is (48 kHz,
// mono, VoIP application), in samples.
static int confd_opus_lookahead(opus_int32 *samples) {
	int err;
	OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
	if (err != OPUS_OK) {
		return err;
	}
	err = opus_encoder_ctl(enc, OPUS_GET_LOOKAHEAD(samples));
	opus_encoder_destroy(enc);
	return err;
}
*/
import "C"

import (
	"fmt"
	"time"

	"confd/codec"
)

// OpusLookahead returns the look-ahead of confd's Opus encoder as libopus reports it
// (OPUS_GET_LOOKAHEAD on an encoder made like codec.NewEncoder's: 48 kHz, mono, VoIP
// application): the delay that re-encoding adds to everything a listener hears, 6.5 ms for
// libopus 1.3 (the 26.5 ms algorithmic delay RFC 6716 gives Opus with 20 ms frames is the frame
// plus this). codec.OpusEncoder does not expose it, so the bench asks libopus directly.
func OpusLookahead() (time.Duration, error) {
	var samples C.opus_int32
	if rc := C.confd_opus_lookahead(&samples); rc != C.OPUS_OK {
		return 0, fmt.Errorf("bench: libopus look-ahead: error %d", int(rc))
	}
	return time.Duration(samples) * time.Second / codec.SampleRate, nil
}
