package testkit

import (
	"encoding/binary"
	"net"
	"syscall"
	"time"
)

// StampArrivals asks the kernel to stamp each datagram of c with its arrival time
// (SO_TIMESTAMPNS, socket(7)), so that a test's clock on received audio does not include its
// own reader's scheduling on a busy machine; ArrivalTime reads the stamp.
func StampArrivals(c *net.UDPConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	return serr
}

// ArrivalTime returns the SCM_TIMESTAMPNS time among a datagram's control messages (read with
// ReadMsgUDP), or false when it has none.
func ArrivalTime(oob []byte) (time.Time, bool) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_TIMESTAMPNS || len(m.Data) < 16 {
			continue
		}
		sec := int64(binary.NativeEndian.Uint64(m.Data))
		nsec := int64(binary.NativeEndian.Uint64(m.Data[8:]))
		return time.Unix(sec, nsec), true
	}
	return time.Time{}, false
}
