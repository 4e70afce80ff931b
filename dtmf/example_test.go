package dtmf_test

import (
	"fmt"
	"time"

	"confd/dtmf"
)

// A leg's RFC 4733 receiver fed by the packets of a sender, as on a loopback call.
func ExampleReceiver() {
	rx, _ := dtmf.NewReceiver(dtmf.ReceiverConfig{ClockRate: 8000})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, key := range "42#" {
		pkts, _ := dtmf.AppendPackets(nil, dtmf.Digit(key), 100*time.Millisecond, uint32(now.UnixMilli()*8), dtmf.SenderConfig{})
		for _, p := range pkts {
			ds, _ := rx.Push(now, p.Timestamp, p.Marker, p.Payload[:])
			for _, d := range ds {
				fmt.Println(d.Digit, d.Duration, d.Ended)
			}
			now = now.Add(20 * time.Millisecond)
		}
		now = now.Add(200 * time.Millisecond)
	}
	// Output:
	// 4 100ms true
	// 2 100ms true
	// # 100ms true
}

// The IVR asks for a PIN: digits from RTP or SIP INFO go to a Collector; the leg's tick calls
// Check.
func ExampleCollector() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := dtmf.NewCollector(dtmf.CollectorConfig{MaxDigits: 8}, start)
	d, _, _ := dtmf.ParseInfo("application/dtmf-relay", []byte("Signal=1\r\nDuration=160\r\n"))
	c.Add(d, start.Add(time.Second))
	c.Add('2', start.Add(2*time.Second))
	fmt.Println(c.Add('#', start.Add(3*time.Second)), c.Digits())
	// Output: terminated 12
}
