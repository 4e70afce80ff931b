package metrics

import (
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"confd/bridge"
	"confd/codec"
	"confd/jitter"
	"confd/testkit/rtptest"
)

// talk sends a 440 Hz tone to p as RTP in codec c every 20 ms until stop is closed.
func talk(t *testing.T, p *bridge.Participant, c codec.Codec, pt uint8, stop chan struct{}) {
	if err := rtptest.SendTone(p, c, pt, 440, stop); err != nil {
		t.Error(err)
	}
}

// scrape GETs /metrics and parses it with the Prometheus text parser.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, rec.Body)
	}
	return fams
}

// value returns the value of the family's series whose labels include want ("k=v" pairs), and
// whether there is one. A histogram's value is its sample count.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, mt := range f.Metric {
		have := map[string]string{}
		for _, l := range mt.Label {
			have[l.GetName()] = l.GetValue()
		}
		for _, kv := range want {
			k, v, _ := strings.Cut(kv, "=")
			if have[k] != v {
				continue next
			}
		}
		switch {
		case mt.Counter != nil:
			return mt.Counter.GetValue(), true
		case mt.Gauge != nil:
			return mt.Gauge.GetValue(), true
		case mt.Histogram != nil:
			return float64(mt.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetricsMoveWithTraffic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bridge.New(bridge.Config{})
		m := New(b, WithRoomLabels(true), WithRegistrations(func() []Registration {
			return []Registration{{Registrar: "sip:reg.example", User: "confd", Registered: true, Refreshes: 2}}
		}))
		a, err := b.Join("r1", bridge.ParticipantInfo{Name: "A", Kind: "sip", Output: codec.Format{Codec: codec.PCMU},
			Input: []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}}}, rtptest.NopLeg{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := b.Join("r1", bridge.ParticipantInfo{Name: "W", Kind: "webrtc", Output: codec.Format{Codec: codec.Opus}, OutputPT: 111,
			Input: []jitter.PayloadType{{Type: 111, Codec: codec.Opus}}}, rtptest.NopLeg{})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { talk(t, a, codec.PCMU, 0, stop) })
		wg.Go(func() { talk(t, w, codec.Opus, 111, stop) })
		time.Sleep(500 * time.Millisecond)
		// What the hooks would be fed by the room, the legs and the SIP layer.
		m.ObserveTick("r1", 300*time.Microsecond)
		m.ObserveJitterDelay(40 * time.Millisecond)
		m.SIPResponse(200, true)
		m.SIPResponse(486, false)
		m.SIPResponse(9999, true)

		first := scrape(t, m)
		checks := []struct {
			name   string
			labels []string
			want   float64
		}{
			{"confd_rooms", nil, 1},
			{"confd_legs", []string{"kind=sip", "codec=PCMU"}, 1},
			{"confd_legs", []string{"kind=webrtc", "codec=opus"}, 1},
			{"confd_room_participants", []string{"room=r1"}, 2},
			{"confd_sip_responses_sent_total", []string{"code=200"}, 1},
			{"confd_sip_responses_received_total", []string{"code=486"}, 1},
			{"confd_sip_responses_sent_total", []string{"code=other"}, 1},
			{"confd_build_info", []string{"goversion=" + runtime.Version()}, 1},
			{"confd_sip_registration_up", []string{"registrar=sip:reg.example", "user=confd"}, 1},
			{"confd_mixer_tick_duration_seconds", []string{"room=r1"}, 1},
			{"confd_jitter_delay_seconds", nil, 1},
		}
		for _, c := range checks {
			if v, ok := value(first, c.name, c.labels...); !ok || v != c.want {
				t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
			}
		}
		// Sent and received responses are apart: a 486 received is no 486 sent.
		if _, ok := value(first, "confd_sip_responses_sent_total", "code=486"); ok {
			t.Error("a received 486 counted as sent")
		}
		ticks1, _ := value(first, "confd_room_ticks_total", "room=r1")
		encodes1, _ := value(first, "confd_room_encodes_total", "room=r1")
		if ticks1 < 10 || encodes1 < 10 {
			t.Errorf("after 0.5 s: ticks %v, encodes %v", ticks1, encodes1)
		}
		if v, _ := value(first, "confd_room_talkers", "room=r1"); v != 2 {
			t.Errorf("talkers %v, want 2", v)
		}

		time.Sleep(500 * time.Millisecond)
		second := scrape(t, m)
		ticks2, _ := value(second, "confd_room_ticks_total", "room=r1")
		encodes2, _ := value(second, "confd_room_encodes_total", "room=r1")
		if ticks2 < ticks1+20 || encodes2 <= encodes1 {
			t.Errorf("ticks %v → %v, encodes %v → %v over 0.5 s", ticks1, ticks2, encodes1, encodes2)
		}
		_, hooked := any(a).(JitterStatser)
		recv, _ := value(second, "confd_rtp_received_packets_total")
		if hooked && recv < 80 {
			t.Errorf("received packets %v after 1 s of two legs", recv)
		}
		if !hooked {
			t.Log("bridge.Participant has no JitterStats hook yet: jitter and RTP counters read zero")
		}

		close(stop)
		wg.Wait()
		a.Leave("bye")
		w.Leave("bye")
		synctest.Wait()
		third := scrape(t, m)
		if v, _ := value(third, "confd_rooms"); v != 0 {
			t.Errorf("rooms %v after everyone left", v)
		}
		if _, ok := value(third, "confd_mixer_tick_duration_seconds", "room=r1"); ok {
			t.Error("the tick histogram of a room that ended is still exported")
		}
		if v, _ := value(third, "confd_rtp_received_packets_total"); v < recv {
			t.Errorf("received packets went back from %v to %v when the legs left", recv, v)
		}
		b.Close()
	})
}

// TestMetricsHideRoomNames is issue 8 item 11: for an open room the name is the only secret
// (whoever knows it can listen in by WHEP), so a scraper of /metrics must not learn it unless
// the operator asked for room labels; and with a metrics token set, /metrics without it is
// refused.
func TestMetricsHideRoomNames(t *testing.T) {
	const secret = "open-room-only-its-guests-know"
	b := bridge.New(bridge.Config{})
	defer b.Close()
	p, err := b.Join(secret, bridge.ParticipantInfo{Name: "A", Kind: "sip", Output: codec.Format{Codec: codec.PCMU},
		Input: []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}}}, rtptest.NopLeg{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Leave("bye")

	m := New(b)
	m.ObserveTick(secret, time.Millisecond) // the room's clock would feed its histogram
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	if strings.Contains(rec.Body.String(), secret) {
		t.Errorf("/metrics names the open room %q by default", secret)
	}
	fams := scrape(t, m)
	if _, ok := value(fams, "confd_room_participants", "room=room-1"); !ok {
		t.Error("no confd_room_participants{room=room-1}: the room's series should stay, under an opaque label")
	}
	if _, ok := value(fams, "confd_mixer_tick_duration_seconds", "room=room-1"); !ok {
		t.Error("the tick histogram does not carry the room's opaque label")
	}

	named := scrape(t, New(b, WithRoomLabels(true)))
	if _, ok := value(named, "confd_room_participants", "room="+secret); !ok {
		t.Error("WithRoomLabels(true): the room's name is not in its label")
	}

	guarded := New(b, WithToken("metrics-secret"))
	for _, auth := range []string{"", "Bearer wrong", "Basic bWV0cmljcy1zZWNyZXQ="} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		guarded.Handler().ServeHTTP(rec, req)
		if rec.Code != 401 || strings.Contains(rec.Body.String(), "confd_room") {
			t.Errorf("Authorization %q: %d %.80s, want 401 and no metrics", auth, rec.Code, rec.Body)
		}
	}
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Authorization", "Bearer metrics-secret")
	rec = httptest.NewRecorder()
	guarded.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "confd_room_participants") {
		t.Errorf("with the metrics token: %d, want 200 with the metrics", rec.Code)
	}
}

func TestTotalsStayMonotonic(t *testing.T) {
	var tot legTotals
	p1, p2 := new(bridge.Participant), new(bridge.Participant)
	c := func(v uint64) legCounters { var l legCounters; l[cLost] = v; return l }
	steps := []struct {
		now  map[*bridge.Participant]legCounters
		want uint64
	}{
		{map[*bridge.Participant]legCounters{p1: c(5), p2: c(3)}, 8},
		{map[*bridge.Participant]legCounters{p1: c(7), p2: c(3)}, 10},
		{map[*bridge.Participant]legCounters{p1: c(7)}, 10}, // p2 left
		{map[*bridge.Participant]legCounters{p1: c(1)}, 11}, // p1's buffer was replaced
		{map[*bridge.Participant]legCounters{p1: c(4)}, 14}, // and grows again
		{map[*bridge.Participant]legCounters{}, 14},         // everyone left
		{map[*bridge.Participant]legCounters{p2: c(2)}, 16}, // a new leg
		{map[*bridge.Participant]legCounters{p2: c(2), p1: c(0)}, 16},
	}
	for i, s := range steps {
		if got := tot.update(s.now)[cLost]; got != s.want {
			t.Errorf("step %d: total %d, want %d", i, got, s.want)
		}
	}
}

func TestHooksAllocateNothing(t *testing.T) {
	m := New(bridge.New(bridge.Config{}))
	m.ObserveTick("room", time.Millisecond) // the room's first tick resolves its observer
	if n := testing.AllocsPerRun(1000, func() {
		m.ObserveTick("room", time.Millisecond)
		m.ObserveJitterDelay(30 * time.Millisecond)
		m.SIPResponse(180, true)
		m.SIPResponse(-1, false)
	}); n != 0 {
		t.Errorf("%v allocations per call", n)
	}
	var none *Metrics
	none.ObserveTick("room", time.Millisecond)
	none.ObserveJitterDelay(time.Millisecond)
	none.SIPResponse(200, true)
}

func BenchmarkObserveTick(b *testing.B) {
	m := New(bridge.New(bridge.Config{}))
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveTick("room", time.Millisecond)
	}
}

// TestLegsAreTheListedKinds: confd_legs and confd_room_participants count what the room's
// state lists (bridge.ListedKinds: people and cascade legs), never confd's own recorders,
// players and forwarders, and docs/metrics.md and the HELP text name those kinds.
func TestLegsAreTheListedKinds(t *testing.T) {
	b := bridge.New(bridge.Config{})
	defer b.Close()
	m := New(b, WithRoomLabels(true))
	pcmu := codec.Format{Codec: codec.PCMU}
	for _, info := range []bridge.ParticipantInfo{
		{Kind: bridge.KindSIP}, {Kind: bridge.KindWebRTC}, {Kind: bridge.KindCascade, Cascade: "b"},
		{Kind: bridge.KindRecorder}, {Kind: bridge.KindPlayer},
	} {
		info.Output = pcmu
		if _, err := b.Join("r", info, rtptest.NopLeg{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.JoinForwarder("r", "", pcmu, 0, rtptest.NopLeg{}); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, m)
	var kinds []string
	for _, mt := range fams["confd_legs"].GetMetric() {
		for _, l := range mt.GetLabel() {
			if l.GetName() == "kind" {
				kinds = append(kinds, l.GetValue())
			}
		}
	}
	slices.Sort(kinds)
	want := slices.Sorted(slices.Values(bridge.ListedKinds))
	if !slices.Equal(kinds, want) {
		t.Errorf("confd_legs kinds %v, want %v", kinds, want)
	}
	if n, _ := value(fams, "confd_room_participants", "room=r"); n != float64(len(want)) {
		t.Errorf("confd_room_participants %v, want the %d the room lists", n, len(want))
	}
	named := "(" + strings.Join(bridge.ListedKinds, ", ") + ")"
	if help := fams["confd_legs"].GetHelp(); !strings.Contains(help, named) {
		t.Errorf("confd_legs HELP %q does not name %s", help, named)
	}
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(doc)) {
		if strings.HasPrefix(line, "| `confd_legs`") && !strings.Contains(line, named) {
			t.Errorf("docs/metrics.md's confd_legs row does not name %s:\n%s", named, line)
		}
	}
}
