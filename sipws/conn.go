package sipws

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"confd/internal/guard"
)

// conn is one WebSocket connection: the flow every response and in-dialog request of its
// calls goes back over (RFC 7118 section 5: the Via and Contact hosts are *.invalid and
// cannot be resolved). One goroutine reads it; writes are serialised by wmu.
type conn struct {
	s         *Server
	nc        net.Conn  // nil in the fuzz target and signalling tests
	br        io.Reader // what the handshake left buffered, then the socket
	write     func([]byte) error
	transport string // the Via transport of confd's requests: WS or WSS
	host      string // the HTTP Host the browser connected to, for confd's Contact
	remote    string // the peer's address

	ctx    context.Context // ended when the connection closes: answers in progress stop
	cancel context.CancelFunc

	wmu       sync.Mutex
	closeOnce sync.Once

	mu     sync.Mutex
	calls  map[string]*call // by Call-ID; guarded by mu
	authed bool             // a REGISTER from this connection passed the digest check
	bad    int              // malformed messages in a row; only the reader touches it
	cseq   uint32           // confd's CSeq for the requests it sends (BYE); guarded by mu
	// lastActive is when the peer last sent a frame or a call ended, regUntil when its
	// registration expires: the idle deadline runs from the later. Guarded by mu.
	lastActive, regUntil time.Time
}

func newConn(s *Server, nc net.Conn, buffered *bufio.Reader, transport, host, remote string) *conn {
	c := &conn{s: s, nc: nc, transport: transport, host: host, remote: remote, calls: map[string]*call{},
		lastActive: time.Now()}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if nc != nil {
		c.br = nc
		if buffered != nil && buffered.Buffered() > 0 {
			c.br = io.MultiReader(io.LimitReader(buffered, int64(buffered.Buffered())), nc)
		}
		c.write = c.writeFrame
	}
	return c
}

// serve reads messages until the connection closes or misbehaves, then ends its calls.
func (c *conn) serve() {
	defer c.close(ws.StatusNormalClosure, "")
	max := c.s.cfg.maxMessageSize()
	control := wsutil.ControlFrameHandler(writerFunc(c.writeControl), ws.StateServerSide)
	src := &deadlineReader{c: c, src: c.br}
	source := guard.SourceAddr(c.remote)
	rd := &wsutil.Reader{
		Source:         src,
		State:          ws.StateServerSide,
		CheckUTF8:      true,
		MaxFrameSize:   int64(max),
		OnIntermediate: control,
	}
	buf := make([]byte, 0, 4096)
	for {
		hdr, err := rd.NextFrame()
		if err != nil {
			if errors.Is(err, wsutil.ErrFrameTooLarge) {
				err = ErrMessageTooLarge
			}
			c.readFailed(err)
			return
		}
		if hdr.OpCode.IsControl() {
			if err := control(hdr, rd); err != nil {
				var closed wsutil.ClosedError
				if errors.As(err, &closed) {
					c.close(ws.StatusAbnormalClosure, "") // the handler has answered the close frame
				}
				c.readFailed(err)
				return
			}
			src.next() // a ping between messages keeps the connection (RFC 6455 section 5.5.2)
			if c.overMessageRate(source) {
				return
			}
			continue
		}
		buf = buf[:0]
		n, err := readLimited(rd, &buf, max)
		if err != nil {
			c.readFailed(err)
			return
		}
		src.next()
		if c.overMessageRate(source) {
			return
		}
		if err := c.handle(buf[:n]); err != nil {
			if errors.Is(err, ErrFlood) {
				c.s.stats.flooded.Add(1)
				c.close(ws.StatusPolicyViolation, err.Error())
			}
			return
		}
	}
}

// overMessageRate takes one token of the source's message rate (Config.MessageRate) for a
// message or a control frame, or closes the connection when there is none: a flood.
func (c *conn) overMessageRate(source netip.Addr) bool {
	if c.s.messages.Allow(source, time.Now()) == nil {
		return false
	}
	c.s.stats.flooded.Add(1)
	c.close(ws.StatusPolicyViolation, ErrFlood.Error())
	return true
}

// readFailed closes the connection for the error that ended its reading, with the close status
// that says why (RFC 6455 section 7.4.1).
func (c *conn) readFailed(err error) {
	switch {
	case errors.Is(err, ErrMessageTooLarge):
		c.s.stats.oversize.Add(1)
		c.close(ws.StatusMessageTooBig, ErrMessageTooLarge.Error())
	case errors.Is(err, ErrIdle):
		c.s.stats.idle.Add(1)
		c.close(ws.StatusNormalClosure, ErrIdle.Error())
	case errors.Is(err, ErrSlowMessage):
		c.s.stats.slow.Add(1)
		c.close(ws.StatusPolicyViolation, ErrSlowMessage.Error())
	}
	c.s.log.Debug("websocket read ended", "remote", c.remote, "err", err)
}

// deadlineReader is the socket as the WebSocket reader sees it, with the read deadline of what
// it waits for, so that a silent or slow peer cannot hold a connection (and its goroutine and
// buffers) forever. Between messages it waits for the idle deadline; when that passes while
// the connection holds a call or a registration (a browser in a call sends nothing: sip.js
// sends no keep-alives unless configured to), the wait goes on. Once a message's first byte
// has come, the whole message (its frames, and control frames between them) must come within
// the message deadline. gobwas/ws reads no further than the frame it is in, so a read never
// takes bytes of the next message. Only the connection's reader uses it.
type deadlineReader struct {
	c       *conn
	src     io.Reader
	started bool // a byte of the message (or control frame) being read has come
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	for {
		if !d.started {
			_ = d.c.nc.SetReadDeadline(d.c.idleDeadline(time.Now()))
		}
		n, err := d.src.Read(p)
		if n > 0 && !d.started {
			d.started = true
			_ = d.c.nc.SetReadDeadline(time.Now().Add(d.c.s.cfg.messageTimeout()))
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		if d.started {
			return n, ErrSlowMessage
		}
		if now := time.Now(); !now.Before(d.c.idleDeadline(now)) {
			return n, ErrIdle
		}
	}
}

// next says that a message or a control frame is complete: the idle clock starts again.
func (d *deadlineReader) next() {
	d.started = false
	d.c.mu.Lock()
	d.c.lastActive = time.Now()
	d.c.mu.Unlock()
}

// idleDeadline is when the connection is idle if nothing comes: never while it holds a call
// (now plus the idle timeout, to look again then), else the idle timeout after its last
// activity or after its registration expires, whichever is later.
func (c *conn) idleDeadline(now time.Time) time.Time {
	idle := c.s.cfg.idleTimeout()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.calls) > 0 {
		return now.Add(idle)
	}
	last := c.lastActive
	if c.regUntil.After(last) {
		last = c.regUntil
	}
	return last.Add(idle)
}

// removeCallLocked forgets a call that has ended; the connection's idle time starts then.
// The caller holds c.mu.
func (c *conn) removeCallLocked(cl *call) {
	delete(c.calls, cl.id)
	c.lastActive = time.Now()
}

// readLimited reads one whole message (its continuation frames included) into *buf, refusing
// more than max bytes.
func readLimited(r io.Reader, buf *[]byte, max int) (int, error) {
	b := *buf
	for {
		if len(b) == cap(b) {
			if len(b) > max {
				return 0, ErrMessageTooLarge
			}
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > max {
			return 0, ErrMessageTooLarge
		}
		if err == io.EOF {
			*buf = b
			return len(b), nil
		}
		if err != nil {
			return 0, err
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// writeControl writes the control frames the reader answers (pong, close) under the write lock.
func (c *conn) writeControl(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.writeTimeout()))
	return c.nc.Write(p)
}

// writeFrame writes one SIP message as one text frame (RFC 7118 section 5.1: SIP messages
// are UTF-8, and browsers' SIP stacks read text frames).
func (c *conn) writeFrame(msg []byte) error {
	c.wmu.Lock()
	if c.ctx.Err() != nil {
		c.wmu.Unlock()
		return ErrConnClosed
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.writeTimeout()))
	err := wsutil.WriteServerMessage(c.nc, ws.OpText, msg)
	c.wmu.Unlock()
	if err != nil {
		c.close(ws.StatusAbnormalClosure, "") // a peer that cannot take a message has gone
	}
	return err
}

// send writes one SIP message to the peer.
func (c *conn) send(msg []byte) error {
	if c.write == nil {
		return ErrConnClosed
	}
	return c.write(msg)
}

// close sends a close frame with status and reason, closes the socket, and ends every call
// on the connection (RFC 7118 section 5: the flow is gone, so are its dialogs).
func (c *conn) close(status ws.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		if c.nc != nil {
			c.wmu.Lock()
			if status != ws.StatusAbnormalClosure {
				_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
				_ = ws.WriteFrame(c.nc, ws.NewCloseFrame(ws.NewCloseFrameBody(status, reason)))
			}
			c.cancel()
			c.wmu.Unlock()
			_ = c.nc.Close()
		} else {
			c.cancel()
		}
	})
}
