package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/testkit/rtptest"
)

// receiver is an httptest endpoint that records what it accepted, deduplicating by id as the
// package documentation tells receivers to.
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	fail   int // answer 500 to this many requests first
	hits   int
	lastID string
	got    []bridge.Event
	dups   int
	badSig int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.hits++
	if rc.hits <= rc.fail {
		http.Error(w, "down", http.StatusInternalServerError)
		return
	}
	if rc.secret != "" {
		if err := Verify(rc.secret, r.Header, body, time.Now(), 0); err != nil {
			rc.badSig++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	var e bridge.Event
	if err := json.Unmarshal(body, &e); err != nil {
		rc.t.Errorf("body %q: %v", body, err)
		return
	}
	if r.Header.Get(HeaderID) != e.ID || r.Header.Get(HeaderEvent) != string(e.Type) {
		rc.t.Errorf("headers %v for event %s %s", r.Header, e.ID, e.Type)
	}
	if e.ID <= rc.lastID {
		rc.dups++
		return
	}
	rc.lastID = e.ID
	rc.got = append(rc.got, e)
}

func (rc *receiver) events() []bridge.Event {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]bridge.Event(nil), rc.got...)
}

// quick are retry limits that keep tests fast.
func quick(url, secret string) Config {
	return Config{URL: url, Secret: secret, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: 2 * time.Second}
}

// startSender serves h and starts a Sender to it on a new Bus, with quick limits changed by
// adjust (if not nil).
func startSender(t *testing.T, h http.Handler, adjust func(*Config)) (*bridge.Bus, *Sender) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	bus := bridge.NewBus()
	cfg := quick(srv.URL, "")
	if adjust != nil {
		adjust(&cfg)
	}
	s, err := New(bus, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return bus, s
}

// closeFlushed closes s and fails the test unless everything queued was dealt with in time.
func closeFlushed(t *testing.T, s *Sender) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestJoinTalkingMuteLeaveArriveInOrderSigned(t *testing.T) {
	rc := &receiver{t: t, secret: "s3cret"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	b := bridge.New(bridge.Config{})
	s, err := New(b.Bus(), quick(srv.URL, "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Join("hooks", bridge.ParticipantInfo{Name: "A", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, rtptest.NopLeg{})
	if err != nil {
		t.Fatal(err)
	}
	// Talking needs audio; the room publishes it the same way.
	b.Bus().Publish(bridge.Event{Type: bridge.EventTalking, Room: "hooks", Participant: p.ID(), Data: map[string]any{"talking": true}})
	room, _ := b.Room("hooks")
	muted := true
	if _, err := room.Update(p.ID(), bridge.Change{Muted: &muted}); err != nil {
		t.Fatal(err)
	}
	p.Leave("bye")
	b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var types []bridge.EventType
	for _, e := range rc.events() {
		types = append(types, e.Type)
		room := e.Type == bridge.EventRoomStarted || e.Type == bridge.EventRoomFinished
		if e.Room != "hooks" || (e.Participant != p.ID()) != room {
			t.Errorf("event %+v", e)
		}
	}
	want := []bridge.EventType{bridge.EventRoomStarted, bridge.EventJoin, bridge.EventTalking, bridge.EventMute,
		bridge.EventLeave, bridge.EventRoomFinished}
	if len(types) != len(want) {
		t.Fatalf("got %v, want %v", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Fatalf("got %v, want %v", types, want)
		}
	}
	if rc.badSig != 0 {
		t.Errorf("%d bad signatures", rc.badSig)
	}
	if st := s.Stats(); st.Delivered != 6 || st.Failed != 0 || st.Retries != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestFailingReceiverThatRecoversGetsEveryEventOnce(t *testing.T) {
	rc := &receiver{t: t, fail: 7}
	bus, s := startSender(t, rc, nil)
	const n = 20
	for i := range n {
		bus.Publish(bridge.Event{Type: bridge.EventDTMF, Room: "r", Data: map[string]any{"digit": strconv.Itoa(i % 10)}})
	}
	closeFlushed(t, s)
	got := rc.events()
	for i, e := range got {
		if e.Data["digit"] != strconv.Itoa(i%10) || (i > 0 && e.ID <= got[i-1].ID) {
			t.Fatalf("event %d is %s %v: not every event once, in order", i, e.ID, e.Data)
		}
	}
	if len(got) != n {
		t.Errorf("%d events, want %d", len(got), n)
	}
	st := s.Stats()
	if st.Delivered != n || st.Retries != 7 || st.Failed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestReceiverSeesRetriedDuplicatesOnlyOnce(t *testing.T) {
	// An endpoint that processes the request and then answers 503: a lost answer. The Sender
	// retries; the receiver's id check keeps one copy.
	var mu sync.Mutex
	seen := map[string]int{}
	var processed []string
	var lastID string
	bus, s := startSender(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderID)
		mu.Lock()
		defer mu.Unlock()
		seen[id]++
		if id > lastID {
			lastID = id
			processed = append(processed, id)
		}
		if seen[id] == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}), nil)
	for range 5 {
		bus.Publish(bridge.Event{Type: bridge.EventJoin, Room: "r"})
	}
	closeFlushed(t, s)
	mu.Lock()
	defer mu.Unlock()
	if len(processed) != 5 {
		t.Errorf("processed %v", processed)
	}
	for id, n := range seen {
		if n != 2 {
			t.Errorf("event %s sent %d times, want 2 (one lost answer, one retry)", id, n)
		}
	}
}

// TestSignatureStandardWebhooksVector holds the published test vector of the Standard
// Webhooks specification (its reference libraries' tests): a stock verifier accepts what confd
// signs.
func TestSignatureStandardWebhooksVector(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	body, ts := []byte(`{"test": 2432232314}`), time.Unix(1614265330, 0)
	key, err := Key(secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := Sign(key, id, ts, body); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, "1614265330")
	h.Set(HeaderSignature, "v1,bm9wZQ== "+want) // a rotated-out signature first: any one matches
	if err := Verify(secret, h, body, ts.Add(time.Minute), 0); err != nil {
		t.Fatalf("the vector does not verify: %v", err)
	}
	// A plain secret is its own bytes: a stock verifier takes it as whsec_ + base64(secret).
	plain, _ := Key("k3y-of-the-old-kind")
	if asStd, _ := Key(SecretPrefix + base64.StdEncoding.EncodeToString([]byte("k3y-of-the-old-kind!!!!!!"))); string(asStd) != "k3y-of-the-old-kind!!!!!!" || string(plain) != "k3y-of-the-old-kind" {
		t.Errorf("keys %q %q", plain, asStd)
	}
	for _, bad := range []string{"whsec_not base64!", "whsec_c2hvcnQ="} {
		if _, err := Key(bad); !errors.Is(err, ErrBadConfig) {
			t.Errorf("Key(%q): %v, want ErrBadConfig", bad, err)
		}
	}
}

// TestSignatureRefusesForgeries attacks Verify: another secret, a changed body, id or
// timestamp, a replay an hour later, a missing header.
func TestSignatureRefusesForgeries(t *testing.T) {
	body := []byte(`{"id":"01KB0000000000000000000000","type":"join"}`)
	now := time.Unix(1767225600, 0)
	h := http.Header{}
	h.Set(HeaderID, "01KB0000000000000000000000")
	h.Set(HeaderTimestamp, "1767225600")
	h.Set(HeaderSignature, Sign([]byte("k"), "01KB0000000000000000000000", now, body))
	if err := Verify("k", h, body, now.Add(time.Minute), 0); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	if err := Verify("other", h, body, now, 0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("wrong secret: %v", err)
	}
	if err := Verify("k", h, []byte(`{"id":2,"type":"join"}`), now, 0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed body: %v", err)
	}
	if err := Verify("k", h, body, now.Add(time.Hour), 0); !errors.Is(err, ErrStale) {
		t.Errorf("replayed an hour later: %v", err)
	}
	forged := h.Clone()
	forged.Set(HeaderID, "01KB0000000000000000000001")
	if err := Verify("k", forged, body, now, 0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed id: %v", err)
	}
	h.Set(HeaderTimestamp, "1767225601")
	if err := Verify("k", h, body, now, 0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed timestamp: %v", err)
	}
	if err := Verify("k", http.Header{}, body, now, 0); !errors.Is(err, ErrNoSignature) {
		t.Errorf("no headers: %v", err)
	}
}

func TestDeadEndpointCostsOnlyItsBoundedQueue(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	const queue = 8
	bus, s := startSender(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}), func(c *Config) { c.QueueSize, c.Timeout = queue, time.Hour })
	other := bus.Subscribe("", 2000, "")
	defer other.Close()
	start := time.Now()
	const n = 1000
	for range n {
		bus.Publish(bridge.Event{Type: bridge.EventTalking, Room: "r"})
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("publishing %d events took %v with a dead endpoint", n, d)
	}
	st := s.Stats()
	// One event in flight, at most QueueSize queued, the rest dropped and counted.
	if st.Queued > queue || st.Dropped < n-queue-1 {
		t.Errorf("stats %+v", st)
	}
	if len(other.C) != n || other.Dropped() != 0 {
		t.Errorf("another subscriber got %d, dropped %d", len(other.C), other.Dropped())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v past a 100 ms deadline", d)
	}
	st = s.Stats()
	if st.Abandoned == 0 || st.Delivered != 0 {
		t.Errorf("after Close: %+v", st)
	}
}

func TestCloseFlushesQueuedEvents(t *testing.T) {
	rc := &receiver{t: t}
	bus, s := startSender(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond) // a slow but healthy endpoint
		rc.ServeHTTP(w, r)
	}), nil)
	for range 50 {
		bus.Publish(bridge.Event{Type: bridge.EventLeave, Room: "r"})
	}
	closeFlushed(t, s)
	if got := len(rc.events()); got != 50 {
		t.Errorf("flushed %d of 50", got)
	}
	// Events after Close go nowhere and disturb nothing.
	bus.Publish(bridge.Event{Type: bridge.EventLeave, Room: "r"})
	closeFlushed(t, s)
}

func TestRefusedEventIsNotRetriedAndBudgetEnds(t *testing.T) {
	var mu sync.Mutex
	codes := map[string]int{}
	bus, s := startSender(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		codes[r.Header.Get(HeaderEvent)]++
		mu.Unlock()
		if r.Header.Get(HeaderEvent) == "join" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusBadGateway)
	}), func(c *Config) { c.MaxAttempts = 3 })
	bus.Publish(bridge.Event{Type: bridge.EventJoin, Room: "r"})
	bus.Publish(bridge.Event{Type: bridge.EventLeave, Room: "r"})
	closeFlushed(t, s)
	mu.Lock()
	defer mu.Unlock()
	if codes["join"] != 1 || codes["leave"] != 3 {
		t.Errorf("attempts per event %v, want join 1 (400 is final), leave 3 (budget)", codes)
	}
	if st := s.Stats(); st.Failed != 2 || st.LastStatus != http.StatusBadGateway {
		t.Errorf("stats %+v", st)
	}
}

func TestFilters(t *testing.T) {
	rc := &receiver{t: t}
	bus, s := startSender(t, rc, func(c *Config) { c.Events, c.Room = []string{"join", "leave"}, "a" })
	bus.Publish(bridge.Event{Type: bridge.EventJoin, Room: "a"})
	bus.Publish(bridge.Event{Type: bridge.EventTalking, Room: "a"})
	bus.Publish(bridge.Event{Type: bridge.EventJoin, Room: "b"})
	bus.Publish(bridge.Event{Type: bridge.EventLeave, Room: "a"})
	closeFlushed(t, s)
	got := rc.events()
	if len(got) != 2 || got[0].Type != bridge.EventJoin || got[1].Type != bridge.EventLeave {
		t.Errorf("got %+v", got)
	}
	if st := s.Stats(); st.Filtered != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestBadConfig(t *testing.T) {
	bus := bridge.NewBus()
	for _, c := range []Config{
		{URL: ""},
		{URL: "ftp://x/y"},
		{URL: "/relative"},
		{URL: "http://x/", Events: []string{"joined"}},
		{URL: "http://x/", Room: "bad room"},
		{URL: "http://x/", QueueSize: -1},
	} {
		if _, err := New(bus, c); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := NewGroup(bus, []Config{{URL: "http://x/"}, {URL: "nope"}}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("group: %v", err)
	}
}
