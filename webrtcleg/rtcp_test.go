package webrtcleg

import (
	"testing"
	"time"

	"github.com/pion/rtcp"

	"confd/bridge"
)

// TestTranslateSSRCInTheRoomsReport: the room's report (an SR with a block about the peer's
// stream, and SDES) leaves with pion's SSRC as sender and SDES source, and the report block,
// which is about the peer's SSRC, unchanged.
func TestTranslateSSRCInTheRoomsReport(t *testing.T) {
	s := bridge.NewRTPSender(111)
	now := time.Unix(9000, 0)
	_, _ = s.Packet(make([]byte, 1500), make([]byte, 80), false, 960, now)
	var r bridge.RTPReceiver
	r.Observe(0xFEED, 1, 960, 48000, now)
	raw, err := bridge.BuildRTCP(s, &r, "confd-x", 48000, now)
	if err != nil {
		t.Fatal(err)
	}
	translateSSRC(raw, s.SSRC(), 0x1234)
	pkts, err := rtcp.Unmarshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok || sr.SSRC != 0x1234 || sr.Reports[0].SSRC != 0xFEED {
		t.Errorf("SR %+v", pkts[0])
	}
	if sd, ok := pkts[1].(*rtcp.SourceDescription); !ok || sd.Chunks[0].Source != 0x1234 || sd.Chunks[0].Items[0].Text != "confd-x" {
		t.Errorf("SDES %+v", pkts[1])
	}
	translateSSRC(raw[:5], 0x1234, 1) // a truncated packet is left alone
}
