package sipleg

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Polled reading (issue 9 item 1): a room's tick reads its SIP legs' RTP sockets itself, so that
// no goroutine wakes for each packet. The reader goroutine of the RTP port (MediaSocket.read)
// hands the socket over on the first Poll: it takes its own descriptor of the socket (dup(2)),
// turns on kernel arrival times (SO_TIMESTAMPNS, socket(7)) and closes the net.UDPConn, which
// takes the socket out of Go's network poller (epoll), so that a packet no longer wakes a thread
// either. From then on every tick drains the socket with non-blocking recvmmsg(2), a few
// datagrams per system call, and each datagram goes through the same source rules (input) with
// the time the kernel received it: the jitter buffer sees exact arrival times however late the
// tick runs. Sends use the same descriptor (sendto(2) with MSG_DONTWAIT, as before).
//
// Both system calls are made raw (without entersyscall): they never block, and a room's tick that
// makes hundreds of them in a row would otherwise have Go's sysmon take its P away again and
// again, each time waking another thread (a context switch per retake, 8-10 % of confd's CPU in
// perf at N = 300).
//
// The RTCP port keeps its reader goroutine: without rtcp-mux it gets a packet every few
// seconds.

// pollBatch is how many datagrams one recvmmsg call takes: a leg sends one packet per 20 ms, so a
// tick usually finds one, and a few more after the room stalled.
const pollBatch = 4

// mediaPoll is a MediaSocket's polled RTP descriptor and its receive buffers.
type mediaPoll struct {
	want atomic.Bool // Poll asked for the socket; the reader hands it over and returns

	// mu guards fd and closed: sends and Poll hold it for reading, the hand-over and Close for
	// writing, so the descriptor is never closed (and its number reused) under a system call.
	mu     sync.RWMutex
	fd     int  // the RTP socket's own descriptor, when open
	open   bool // fd is handed over and not closed
	closed bool

	// The receive side, owned by the goroutine that calls Poll (a room's, one at a time).
	pollMu sync.Mutex
	hdrs   [pollBatch]unix.Mmsghdr
	iovs   [pollBatch]unix.Iovec
	names  [pollBatch]unix.RawSockaddrInet4
	oobs   [pollBatch][8]uint64 // control messages, 8-byte aligned for cmsghdr
	bufs   *[pollBatch][maxDatagram + 1]byte

	// sendName is the destination of the send in progress; the RTP port's nbSender, whose lock
	// is held across sendPolled, is its only user.
	sendName unix.RawSockaddrInet4
}

// Poll reads every datagram waiting on the RTP socket and hands each to the callbacks of Start
// (through the source rules), with the kernel's arrival time, without blocking. The first call
// asks the reader goroutine to hand the socket over and returns; packets then wait for the next
// call (a tick later at most). It is meant for one goroutine at a time (a room's) and allocates
// nothing once the socket is handed over.
func (m *MediaSocket) Poll() {
	p := &m.poll
	if !p.want.Load() {
		if p.want.Swap(true) {
			return
		}
		_ = m.rtp.SetReadDeadline(time.Unix(1, 0)) // wakes the reader, which hands over
		return
	}
	p.pollMu.Lock()
	defer p.pollMu.Unlock()
	p.mu.RLock()
	defer p.mu.RUnlock()
	if !p.open {
		return
	}
	for {
		for i := range p.hdrs {
			h := &p.hdrs[i].Hdr
			h.Namelen = unix.SizeofSockaddrInet4
			h.SetControllen(8 * len(p.oobs[i]))
			h.Flags = 0
		}
		r, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(p.fd), uintptr(unsafe.Pointer(&p.hdrs[0])), pollBatch,
			unix.MSG_DONTWAIT, 0, 0)
		if errno != 0 {
			return // EAGAIN: drained; anything else (an ICMP error) waits for the next tick
		}
		n := int(r)
		for i := range n {
			h := &p.hdrs[i]
			size := int(h.Len)
			if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
				size = maxDatagram + 1 // too long: classify rejects it as malformed
			}
			name := &p.names[i]
			src := netip.AddrPortFrom(netip.AddrFrom4(name.Addr), binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&name.Port))[:]))
			at, ok := cmsgTimestamp(unsafe.Slice((*byte)(unsafe.Pointer(&p.oobs[i][0])), 8*len(p.oobs[i]))[:h.Hdr.Controllen])
			if !ok {
				at = time.Now()
			}
			m.input(p.bufs[i][:size], src, at, false)
		}
		if n < pollBatch {
			return
		}
	}
}

// handOver runs on the RTP port's reader goroutine once Poll has asked for the socket: it takes
// a descriptor of its own, turns on arrival times, and closes the net.UDPConn (and so its
// registration with the network poller). It reports false when the socket is closing, and the
// reader then simply returns.
func (m *MediaSocket) handOver() bool {
	p := &m.poll
	raw, err := m.rtp.SyscallConn()
	if err != nil {
		return false
	}
	fd := -1
	if err := raw.Control(func(s uintptr) {
		if nfd, err := unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0); err == nil {
			fd = nfd
		}
	}); err != nil || fd < 0 {
		if fd >= 0 {
			unix.Close(fd)
		}
		return false
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return false
	}
	p.pollMu.Lock()
	p.bufs = new([pollBatch][maxDatagram + 1]byte)
	for i := range p.hdrs {
		p.iovs[i].Base = &p.bufs[i][0]
		p.iovs[i].SetLen(len(p.bufs[i]))
		h := &p.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&p.names[i]))
		h.Iov = &p.iovs[i]
		h.SetIovlen(1)
		h.Control = (*byte)(unsafe.Pointer(&p.oobs[i][0]))
	}
	p.pollMu.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		unix.Close(fd)
		return false
	}
	p.fd, p.open = fd, true
	p.mu.Unlock()
	// Sends take the new descriptor from now on (nbSender.send); the old one leaves the poller.
	_ = m.rtp.Close()
	return true
}

// sendPolled sends pkt on the handed-over descriptor, and reports false when there is none yet.
// Its caller holds the nbSender's lock.
func (p *mediaPoll) sendPolled(pkt []byte, sa syscall.Sockaddr) (bool, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if !p.open {
		return p.closed, errNoDestination // closed: nothing to send on
	}
	in4, ok := sa.(*syscall.SockaddrInet4)
	if !ok || len(pkt) == 0 {
		return true, errNoDestination
	}
	n := &p.sendName
	n.Family = unix.AF_INET
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&n.Port))[:], uint16(in4.Port))
	n.Addr = in4.Addr
	_, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(p.fd), uintptr(unsafe.Pointer(&pkt[0])), uintptr(len(pkt)),
		unix.MSG_DONTWAIT, uintptr(unsafe.Pointer(n)), unix.SizeofSockaddrInet4)
	if errno != 0 {
		return true, errno
	}
	return true, nil
}

// close closes the handed-over descriptor, if any; Poll and sends find none afterwards.
func (p *mediaPoll) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.open {
		unix.Close(p.fd)
		p.open = false
	}
}

// cmsgTimestamp returns the SCM_TIMESTAMPNS time among a datagram's control messages
// (cmsg(3)), without allocating.
func cmsgTimestamp(oob []byte) (time.Time, bool) {
	const hdr = unix.SizeofCmsghdr
	for len(oob) >= hdr {
		c := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(c.Len)
		if l < hdr || l > len(oob) {
			return time.Time{}, false
		}
		if c.Level == unix.SOL_SOCKET && c.Type == unix.SCM_TIMESTAMPNS && l >= hdr+16 {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[hdr]))
			return time.Unix(ts.Sec, ts.Nsec), true
		}
		next := (l + 7) &^ 7 // CMSG_ALIGN
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	return time.Time{}, false
}
