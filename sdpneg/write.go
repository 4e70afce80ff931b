package sdpneg

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"

	"confd/codec"
)

// codecFormat is the payload format confd writes for codec c at payload type pt.
func codecFormat(c codec.Codec, pt uint8) PayloadFormat {
	f := PayloadFormat{Type: pt, Name: c.String(), ClockRate: c.ClockRate(), Channels: c.Channels()}
	if c == codec.Opus {
		f.Fmtp = localOpusParams.String()
	}
	return f
}

// eventFormat is the telephone-event payload format confd writes at payload type pt.
func eventFormat(pt uint8, clock int) PayloadFormat {
	return PayloadFormat{Type: pt, Name: "telephone-event", ClockRate: clock, Fmtp: "0-15"}
}

// audioLine describes confd's audio m-line.
type audioLine struct {
	port, rtcpPort int
	proto          string
	formats        []PayloadFormat
	ptime          time.Duration
	dir            Direction
	rtcpMux        bool
}

// rejectedLine describes an m-line answered or re-offered with port 0.
type rejectedLine struct {
	kind, proto string
	formats     []string
}

// slot is one m-line of confd's SDP: either the audio or a rejected line.
type slot struct {
	audio    bool
	rejected rejectedLine
}

func addrType(l Local) string {
	if l.Addr.Is4() {
		return "IP4"
	}
	return "IP6"
}

// build writes confd's SDP: session lines, then one m-line per slot in order.
func build(l Local, id, version uint64, slots []slot, audio audioLine) ([]byte, error) {
	sd := &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: l.Username, SessionID: id, SessionVersion: version,
			NetworkType: "IN", AddressType: addrType(l), UnicastAddress: l.Addr.String(),
		},
		SessionName: sdp.SessionName(l.SessionName),
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN", AddressType: addrType(l), Address: &sdp.Address{Address: l.Addr.String()},
		},
		TimeDescriptions: []sdp.TimeDescription{{}},
	}
	for _, s := range slots {
		if s.audio {
			sd.MediaDescriptions = append(sd.MediaDescriptions, audio.description())
			continue
		}
		fmts := s.rejected.formats
		if len(fmts) == 0 {
			fmts = []string{"0"}
		}
		sd.MediaDescriptions = append(sd.MediaDescriptions, &sdp.MediaDescription{
			MediaName: sdp.MediaName{
				Media:   s.rejected.kind,
				Port:    sdp.RangedPort{Value: 0},
				Protos:  strings.Split(s.rejected.proto, "/"),
				Formats: fmts,
			},
		})
	}
	b, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("sdpneg: writing SDP: %w", err)
	}
	return b, nil
}

func (a audioLine) description() *sdp.MediaDescription {
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media:  "audio",
		Port:   sdp.RangedPort{Value: a.port},
		Protos: strings.Split(a.proto, "/"),
	}}
	for _, f := range a.formats {
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(int(f.Type)))
	}
	for _, f := range a.formats {
		rtpmap := fmt.Sprintf("%d %s/%d", f.Type, f.Name, f.ClockRate)
		if f.Channels > 1 {
			rtpmap += "/" + strconv.Itoa(f.Channels)
		}
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", rtpmap))
		if f.Fmtp != "" {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("fmtp", fmt.Sprintf("%d %s", f.Type, f.Fmtp)))
		}
	}
	md.Attributes = append(md.Attributes, sdp.NewAttribute("ptime", strconv.Itoa(int(a.ptime/time.Millisecond))))
	md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(a.dir.String()))
	if a.rtcpMux {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("rtcp-mux"))
	}
	if a.rtcpPort != a.port+1 {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtcp", strconv.Itoa(a.rtcpPort)))
	}
	return md
}
