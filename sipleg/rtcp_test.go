package sipleg

import (
	"fmt"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"confd/testkit"
)

// TestCallInARoomGetsItsRTCPReports is issue 9 item 3 end to end for a SIP leg: the call no
// longer schedules RTCP itself; its room sends the call's sender report (about confd's stream,
// with a report block about the phone's) and SDES to the RTCP address of the phone's SDP
// (RFC 3605 a=rtcp), within the first interval's bound of 3.75 s.
func TestCallInARoomGetsItsRTCPReports(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	media, port := callerMedia(t)
	rtcpConn, rtcpPort := callerMedia(t)
	p := inviteRawPhoneWith(t, ts, "rtcp", port, media, 440, fmt.Sprintf("a=rtcp:%d\r\n", rtcpPort))
	confdPort := int(p.confd.Port())
	p.start()
	c := ts.onlyCall(t)
	testkit.Eventually(t, 5*time.Second, func() bool { return c.part.Load() != nil })
	ours := c.part.Load().SSRC()

	buf := make([]byte, 1500)
	_ = rtcpConn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		k, from, err := rtcpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no RTCP report from confd: %v", err)
		}
		if from.Port() != uint16(confdPort+1) {
			t.Fatalf("RTCP from %v, want confd's RTCP port %d", from, confdPort+1)
		}
		pkts, err := rtcp.Unmarshal(buf[:k])
		if err != nil || len(pkts) != 2 {
			t.Fatalf("%d packets (%v): % x", len(pkts), err, buf[:k])
		}
		sr, ok := pkts[0].(*rtcp.SenderReport)
		if !ok || sr.SSRC != ours {
			t.Fatalf("first packet %+v, want confd's sender report from SSRC %#x", pkts[0], ours)
		}
		if sd, ok := pkts[1].(*rtcp.SourceDescription); !ok || sd.Chunks[0].Source != ours {
			t.Fatalf("second packet %+v, want confd's SDES", pkts[1])
		}
		if len(sr.Reports) == 0 {
			continue // the phone's first packets had not been read at the time of this report
		}
		if b := sr.Reports[0]; b.SSRC != 440*7919 || b.TotalLost != 0 {
			t.Errorf("report block %+v, want one about the phone's SSRC %#x and no loss", b, 440*7919)
		}
		return
	}
}
