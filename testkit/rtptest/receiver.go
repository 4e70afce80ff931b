package rtptest

import (
	"errors"
	"net"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/testkit"
)

// Receiver is the far end of a stream confd sends as plain RTP (an RTP forwarder's recorder or
// transcriber): a UDP socket on loopback that decodes the packets of one payload type as they
// arrive.
type Receiver struct {
	conn *net.UDPConn
	done chan struct{}
}

// Listen opens a Receiver of codec c at payload type pt on a free loopback port. Its goroutine
// hands each packet of that payload type to got with the kernel's arrival time (StampArrivals;
// the time of the read where the kernel gave none) and its decoded PCM at 48 kHz, nil when the
// payload did not decode; packets of other types and datagrams that are not RTP are dropped.
// got runs on that goroutine, one packet at a time. The test's cleanup closes the socket and
// waits for the goroutine.
func Listen(t testkit.TB, c codec.Codec, pt uint8, got func(pkt *rtp.Packet, arrival time.Time, pcm []int16)) *Receiver {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = testkit.StampArrivals(conn)
	dec, err := codec.NewDecoder(c)
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	r := &Receiver{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf, oob := make([]byte, 1500), make([]byte, 128)
		pcm := make([]int16, codec.MaxPacketSamples)
		var pkt rtp.Packet
		for {
			n, oobn, _, _, err := conn.ReadMsgUDPAddrPort(buf, oob)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			arrival, ok := testkit.ArrivalTime(oob[:oobn])
			if !ok {
				arrival = time.Now()
			}
			if err != nil || pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != pt {
				continue
			}
			k, err := dec.Decode(pkt.Payload, pcm)
			if err != nil {
				got(&pkt, arrival, nil)
				continue
			}
			got(&pkt, arrival, pcm[:k])
		}
	}()
	t.Cleanup(r.Close)
	return r
}

// Close closes the socket and waits for the Receiver's goroutine to end. The test's cleanup
// calls it too; a test that counts sockets or goroutines calls it first.
func (r *Receiver) Close() {
	r.conn.Close()
	<-r.done
}

// Port is the loopback port the Receiver listens on.
func (r *Receiver) Port() int { return r.conn.LocalAddr().(*net.UDPAddr).Port }
