package api

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"confd/problem"
	"confd/testkit"
)

// testLimits are ServerLimits short enough for a test.
var testLimits = ServerLimits{
	ReadHeaderTimeout: 2 * time.Second, BodyTimeout: 200 * time.Millisecond, IdleTimeout: 5 * time.Second,
	MaxHeaderBytes: 8 << 10, MaxBodyBytes: 64 << 10,
}

// serve runs h behind LimitConns and NewServer on a loopback port until the test ends, with
// perSource connections per source.
func serve(t *testing.T, h http.Handler, perSource int) (addr string, ln *ConnLimiter) {
	t.Helper()
	lim := testLimits
	lim.MaxConnsPerSource = perSource
	return serveWith(t, h, lim, nil)
}

// serveWith is serve with lim's connection limits (a ConnRate of 1000 when lim has none), the
// listener telling log (nil: slog.Default) of what it closes.
func serveWith(t *testing.T, h http.Handler, lim ServerLimits, log *slog.Logger) (addr string, ln *ConnLimiter) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim.ConnRate = cmp.Or(lim.ConnRate, 1000)
	ln = LimitConns(raw, lim, log)
	srv := NewServer(h, testLimits, nil)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return raw.Addr().String(), ln
}

// TestSlowBodyIsCutOff is issue 8 item 13's attack: a POST that declares 5,000 bytes and sends
// none. The handler's read fails once the body deadline is over and the connection is closed,
// instead of holding a goroutine and a socket for as long as the client likes.
func TestSlowBodyIsCutOff(t *testing.T) {
	readErr := make(chan error, 1)
	addr, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
		if err != nil {
			problem.Write(w, http.StatusRequestTimeout, "body not received in time")
			return
		}
		w.WriteHeader(201)
	}), 8)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /whip/room HTTP/1.1\r\nHost: %s\r\nContent-Type: application/sdp\r\nContent-Length: 5000\r\n\r\n", addr)
	// The bound only keeps a broken build from hanging the test; the deadline is 200 ms.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	answer, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was still open after 10 s (answer so far %q)", answer)
	}
	select {
	case err := <-readErr:
		if err == nil {
			t.Error("the handler read a whole body that was never sent")
		}
	default:
		t.Error("the handler never returned from reading the body")
	}
	if len(answer) > 0 && !strings.HasPrefix(string(answer), "HTTP/1.1 408") {
		t.Errorf("answer %q, want a 408 or nothing", answer)
	}

	// An honest client that sends its body at once is served on a fresh connection.
	resp, err := http.Post("http://"+addr+"/whip/room", "application/sdp", strings.NewReader(strings.Repeat("v", 5000)))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("whole body: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestConnectionsPerSourceAreCapped: connections from one address beyond the cap are closed
// at once, before HTTP reads anything from them; a place given back is free again.
func TestConnectionsPerSourceAreCapped(t *testing.T) {
	const limit = 3
	addr, ln := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }), limit)
	get := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "HTTP/1.1 204") {
			return fmt.Errorf("status line %q", line)
		}
		return nil
	}
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := range limit {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		if err := get(c); err != nil {
			t.Fatalf("connection %d of %d: %v", i+1, limit, err)
		}
	}
	for i := range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			continue // refused outright is fine too
		}
		if err := get(c); err == nil {
			t.Errorf("connection %d over the cap of %d was served", i+1, limit)
		}
		c.Close()
	}
	if ln.Refused() == 0 {
		t.Error("the listener counted no refusal")
	}
	// Hang one up: once the server has closed its side, a new connection is served again.
	held[0].Close()
	held = held[1:]
	var err error
	served := testkit.WaitFor(10*time.Second, func() bool {
		var c net.Conn
		if c, err = net.Dial("tcp", addr); err != nil {
			return false
		}
		if err = get(c); err != nil {
			c.Close()
			return false
		}
		held = append(held, c)
		return true
	})
	if !served {
		t.Fatalf("no connection served after one of %d was closed: %v", limit, err)
	}
}

// TestEventStreamOutlivesBodyDeadline: the server's deadlines do not cut a long-lived event
// stream, which reads no body and writes for as long as the client listens.
func TestEventStreamOutlivesBodyDeadline(t *testing.T) {
	b, _, parts, _ := setup(t, testToken)
	h := New(b, Config{Token: testToken, KeepAlive: 50 * time.Millisecond}, nil)
	addr, _ := serve(t, h, 8)
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/rooms/r/events", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Keep-alives for five times the body deadline (and past the header deadline's reach).
	start := time.Now()
	for time.Since(start) < 5*testLimits.BodyTimeout {
		if _, ok := <-lines; !ok {
			t.Fatalf("the stream ended after %v", time.Since(start))
		}
	}
	parts[2].Leave("bye")
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended before the leave event")
			}
			if l == "event: leave" {
				return
			}
		case <-timeout:
			t.Fatal("no leave event on the stream")
		}
	}
}
