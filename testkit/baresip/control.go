package baresip

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Event is one call or user-agent event reported by baresip's ctrl_tcp module.
type Event struct {
	// Type is baresip's event name, e.g. "CALL_INCOMING", "CALL_ESTABLISHED", "CALL_CLOSED",
	// "CALL_DTMF_START".
	Type string `json:"type"`
	// Class is the event's class, e.g. "call" or "register".
	Class string `json:"class"`
	// Param is the event's detail: the reason for CALL_CLOSED, the digit for CALL_DTMF_START.
	Param string `json:"param"`
	// Peer is the remote party's URI (baresip 1.0.0 names it "peeruri").
	Peer string `json:"peeruri"`
	// Direction is "incoming" or "outgoing" for call events.
	Direction string `json:"direction"`
	// At is when this process read the event.
	At time.Time `json:"-"`
}

// Event types that the wait helpers look for.
const (
	EventIncoming    = "CALL_INCOMING"
	EventEstablished = "CALL_ESTABLISHED"
	EventClosed      = "CALL_CLOSED"
	EventDTMFStart   = "CALL_DTMF_START"
)

// controlMessage is either a command response or an event; ctrl_tcp tells them apart by a
// "response" or "event" member (true; some versions write the event's as a string).
type controlMessage struct {
	Response bool            `json:"response"`
	Event    json.RawMessage `json:"event"`
	OK       bool            `json:"ok"`
	Data     string          `json:"data"`
}

// control is a client of ctrl_tcp: netstring-framed JSON (netstrings: "LEN:BYTES,") over one
// TCP connection carrying commands one at a time, their responses, and events at any time.
type control struct {
	conn net.Conn

	cmdMu sync.Mutex // one command in flight: ctrl_tcp answers in order, without tokens in events
	resp  chan controlMessage

	mu      sync.Mutex
	events  []Event
	taken   map[string]int // per type: how many events the wait helpers consumed
	changed chan struct{}  // closed and replaced on every new event or on EOF
	done    bool
}

func dialControl(addr string) (*control, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	c := &control{
		conn:    conn,
		resp:    make(chan controlMessage, 1),
		taken:   make(map[string]int),
		changed: make(chan struct{}),
	}
	go c.read()
	return c, nil
}

func (c *control) read() {
	r := bufio.NewReader(c.conn)
	for {
		msg, err := readNetstring(r)
		if err != nil {
			break
		}
		var m controlMessage
		if json.Unmarshal(msg, &m) != nil {
			continue
		}
		switch {
		case m.Response:
			select {
			case c.resp <- m:
			default: // a response nobody waits for (the command timed out): drop it
			}
		case len(m.Event) > 0 && string(m.Event) != "false":
			var ev Event
			if json.Unmarshal(msg, &ev) != nil {
				continue
			}
			ev.At = time.Now()
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.signalLocked()
			c.mu.Unlock()
		}
	}
	c.mu.Lock()
	c.done = true
	c.signalLocked()
	c.mu.Unlock()
	close(c.resp)
}

func (c *control) signalLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// command runs one baresip long command ("dial sip:…") and returns its printed output.
func (c *control) command(cmd, params string, timeout time.Duration) (string, error) {
	c.cmdMu.Lock()
	defer c.cmdMu.Unlock()
	// Drain a late response left over from a command that timed out.
	select {
	case <-c.resp:
	default:
	}
	req := map[string]string{"command": cmd}
	if params != "" {
		req["params"] = params
	}
	body, _ := json.Marshal(req)
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.conn.Write(appendNetstring(nil, body)); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrExited, cmd, err)
	}
	select {
	case m, ok := <-c.resp:
		if !ok {
			return "", fmt.Errorf("%w: %s", ErrExited, cmd)
		}
		if !m.OK {
			return m.Data, fmt.Errorf("%w: %s %s: %s", ErrCommand, cmd, params, m.Data)
		}
		return m.Data, nil
	case <-time.After(timeout):
		return "", fmt.Errorf("%w: no answer to %q", ErrTimeout, cmd)
	}
}

// wait returns the next not yet consumed event of type typ, waiting up to timeout for it.
func (c *control) wait(typ string, timeout time.Duration) (Event, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		seen := 0
		for _, ev := range c.events {
			if ev.Type != typ {
				continue
			}
			if seen == c.taken[typ] {
				c.taken[typ]++
				c.mu.Unlock()
				return ev, nil
			}
			seen++
		}
		done, changed := c.done, c.changed
		c.mu.Unlock()
		if done {
			return Event{}, fmt.Errorf("%w while waiting for %s", ErrExited, typ)
		}
		select {
		case <-changed:
		case <-deadline.C:
			return Event{}, fmt.Errorf("%w: no %s within %v", ErrTimeout, typ, timeout)
		}
	}
}

func (c *control) snapshot() []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Event(nil), c.events...)
}

func (c *control) close() { c.conn.Close() }

// appendNetstring frames b as a netstring: decimal length, ':', bytes, ','.
func appendNetstring(dst, b []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, ':')
	dst = append(dst, b...)
	return append(dst, ',')
}

// maxNetstring bounds one control message; ctrl_tcp's own buffer is far smaller.
const maxNetstring = 1 << 20

func readNetstring(r *bufio.Reader) ([]byte, error) {
	head, err := r.ReadString(':')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(head[:len(head)-1])
	if err != nil || n < 0 || n > maxNetstring {
		return nil, fmt.Errorf("baresip: bad netstring length %q", head)
	}
	buf := make([]byte, n+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	if buf[n] != ',' {
		return nil, fmt.Errorf("baresip: netstring not closed by ','")
	}
	return buf[:n], nil
}
