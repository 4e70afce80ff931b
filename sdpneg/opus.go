package sdpneg

import (
	"strconv"
	"strings"
)

// OpusParams are the Opus format parameters of RFC 7587 section 6.1 that one side wrote in its
// "a=fmtp" line. Each states what that side's decoder prefers or can take, so the remote's
// OpusParams shape what confd sends (Result.SendFormat), and confd's own answer states what it
// wants to receive.
type OpusParams struct {
	// Present is true when the SDP had an fmtp line for the Opus payload type at all.
	Present bool
	// MaxPlaybackRate is "maxplaybackrate": the highest audio rate, in Hz, the decoder renders;
	// 0 when absent (RFC 7587 default 48000).
	MaxPlaybackRate int
	// SpropMaxCaptureRate is "sprop-maxcapturerate": the highest audio rate, in Hz, the sender
	// captures; 0 when absent.
	SpropMaxCaptureRate int
	// MaxAverageBitrate is "maxaveragebitrate": the highest average bitrate, in bit/s, the
	// receiver wants; 0 when absent.
	MaxAverageBitrate int
	// Stereo is "stereo=1": the decoder prefers stereo. confd sends it stereo while a pan
	// applies to it (Result.SendFormat, mixer/stereo.go) and mono otherwise, which every Opus
	// decoder accepts (RFC 7587 section 3.4). confd never writes stereo=1 for itself: it
	// decodes what it receives to mono.
	Stereo bool
	// SpropStereo is "sprop-stereo=1": the sender is likely to send stereo.
	SpropStereo bool
	// UseInbandFEC is "useinbandfec=1": the decoder can take advantage of in-band FEC
	// (RFC 7587 default 0).
	UseInbandFEC bool
	// UseDTX is "usedtx=1": the decoder prefers discontinuous transmission (default 0).
	UseDTX bool
	// CBR is "cbr=1": the decoder prefers a constant bitrate (default 0).
	CBR bool
}

// ParseOpusParams reads an Opus fmtp parameter list such as "minptime=10;useinbandfec=1" (the
// SIP answerer here, and webrtcleg for a WebRTC offer's stereo=1).
// Parameter names are compared case-insensitively and white space around separators is
// ignored; unknown parameters and unreadable values are ignored, as RFC 7587 section 6.1 says
// a receiver must.
func ParseOpusParams(fmtp string) OpusParams {
	p := OpusParams{Present: true}
	for _, kv := range strings.Split(fmtp, ";") {
		k, v, _ := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			n = 0
		}
		switch k {
		case "maxplaybackrate":
			p.MaxPlaybackRate = n
		case "sprop-maxcapturerate":
			p.SpropMaxCaptureRate = n
		case "maxaveragebitrate":
			p.MaxAverageBitrate = n
		case "stereo":
			p.Stereo = n == 1
		case "sprop-stereo":
			p.SpropStereo = n == 1
		case "useinbandfec":
			p.UseInbandFEC = n == 1
		case "usedtx":
			p.UseDTX = n == 1
		case "cbr":
			p.CBR = n == 1
		}
	}
	return p
}

// String writes the parameters as an fmtp value, "; "-separated as in RFC 7587 section 7,
// leaving out parameters at their defaults.
func (p OpusParams) String() string {
	var parts []string
	num := func(name string, v int) {
		if v > 0 {
			parts = append(parts, name+"="+strconv.Itoa(v))
		}
	}
	flag := func(name string, v bool) {
		if v {
			parts = append(parts, name+"=1")
		}
	}
	num("maxplaybackrate", p.MaxPlaybackRate)
	num("sprop-maxcapturerate", p.SpropMaxCaptureRate)
	num("maxaveragebitrate", p.MaxAverageBitrate)
	flag("stereo", p.Stereo)
	flag("sprop-stereo", p.SpropStereo)
	flag("cbr", p.CBR)
	flag("useinbandfec", p.UseInbandFEC)
	flag("usedtx", p.UseDTX)
	return strings.Join(parts, "; ")
}

// localOpusParams are what confd writes for its own Opus receive side in offers and answers:
// see the package documentation for why.
var localOpusParams = OpusParams{Present: true, UseInbandFEC: true, UseDTX: true}
