package webrtcleg

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/testkit"
	"confd/testkit/audiotest"
	"confd/testkit/pionbrowser"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// testServer is a bridge, a webrtcleg Server on 127.0.0.1 and its HTTP endpoint.
type testServer struct {
	b    *bridge.Bridge
	s    *Server
	http *httptest.Server
}

func newTestServer(t testing.TB, bcfg bridge.Config, cfg Config, opts ...Option) *testServer {
	t.Helper()
	if cfg.ListenIPs == nil {
		cfg.ListenIPs = []netip.Addr{loopback}
	}
	b := bridge.New(bcfg)
	s, err := New(b, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{b: b, s: s, http: httptest.NewServer(s.Handler())}
	t.Cleanup(ts.close)
	return ts
}

func (ts *testServer) close() {
	ts.http.CloseClientConnections()
	ts.http.Close()
	_ = ts.s.Close()
	ts.b.Close()
}

// connect has ts answer, in room1, the offer of a browser started with opts that joins as
// info, and waits until the call carries the browser's audio (connected, more than 10 RTP
// packets in). It returns the browser, the call and confd's SDP answer.
func (ts *testServer) connect(t *testing.T, opts pionbrowser.Options, info JoinInfo) (*pionbrowser.Browser, *Call, string) {
	t.Helper()
	cl := pionbrowser.Start(t, opts)
	answer, call, err := ts.s.Answer(context.Background(), "room1", cl.Offer(), info)
	if err != nil {
		t.Fatal(err)
	}
	cl.Answer(answer)
	if !testkit.WaitFor(5*time.Second, func() bool { return call.Stats().Connected && call.Stats().RTPReceived > 10 }) {
		t.Fatalf("the call does not carry the browser's audio: %+v", call.Stats())
	}
	return cl, call, answer
}

// post sends an SDP offer to path and returns the response and its body.
func (ts *testServer) post(t *testing.T, path, contentType, token, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.http.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func (ts *testServer) delete(t *testing.T, location, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, ts.http.URL+location, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, _ := do(t, req)
	return resp
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	return doFrom(t, "", req)
}

// doFrom sends req from the loopback address src (127.0.0.0/8 is all this host's, so a test
// can speak as several sources), or from any address when src is empty.
func doFrom(t *testing.T, src string, req *http.Request) (*http.Response, string) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	if src != "" {
		tr.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}).DialContext
	}
	c := &http.Client{Transport: tr}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// hearsTone waits up to 10 s for a second in which the room kept real time and the client
// heard hz at or above minDB while each of quiet stayed 30 dB under it. A machine so loaded
// that no such second comes (or -race) leaves the audio unjudged, logged; a healthy second
// with the wrong audio fails. Levels are medians over short pieces (audiotest.MedianToneLevel),
// which a dropped frame's splice does not cancel as it does one coherent sum over the second.
func hearsTone(t *testing.T, c *pionbrowser.Browser, hz, minDB float64, quiet ...float64) {
	t.Helper()
	level, worst, healthy, ok := -200.0, -200.0, false, false
	for deadline := time.Now().Add(10 * time.Second); !ok && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		pcm, h := c.HealthyWindow(time.Second)
		if !h {
			continue
		}
		healthy, level, worst = true, audiotest.MedianToneLevel(pcm, codec.SampleRate, hz), -200
		for _, q := range quiet {
			worst = max(worst, audiotest.MedianToneLevel(pcm, codec.SampleRate, q))
		}
		ok = level >= minDB && worst < level-30
	}
	t.Logf("hears %.0f Hz at %.1f dBFS (others at most %.1f)", hz, level, worst)
	switch {
	case ok:
	case !healthy || raceEnabled:
		t.Logf("no second in which the room kept real time (or -race): audio not judged")
	default:
		t.Errorf("hears %.0f Hz at %.1f dBFS (want ≥ %.0f) and the others at %.1f dBFS", hz, level, minDB, worst)
	}
}
