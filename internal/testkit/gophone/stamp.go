package gophone

import (
	"encoding/binary"
	"net"
	"syscall"
	"time"
)

// stampArrivals asks the kernel to stamp each datagram with its arrival time (SO_TIMESTAMPNS,
// socket(7)), so that the Timeline places audio where it arrived even when the reading
// goroutine was not scheduled for a while. It is best effort: without it, the read's time is
// used.
func stampArrivals(c *net.UDPConn) {
	if raw, err := c.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
		})
	}
}

// kernelArrival returns the SCM_TIMESTAMPNS time among a datagram's control messages.
func kernelArrival(oob []byte) (time.Time, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_TIMESTAMPNS || len(m.Data) < 16 {
			continue
		}
		var ts syscall.Timespec
		ts.Sec = int64(binary.NativeEndian.Uint64(m.Data))
		ts.Nsec = int64(binary.NativeEndian.Uint64(m.Data[8:]))
		return time.Unix(ts.Unix()), true
	}
	return time.Time{}, false
}
