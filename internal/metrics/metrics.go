package metrics

import (
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"confd/bridge"
	"confd/internal/buildinfo"
	"confd/internal/guard"
	"confd/jitter"
	"confd/problem"
)

// JitterStatser is what the collector needs from a participant to export its jitter-buffer
// counters (concealed, lost, late, FEC-recovered, received packets). *bridge.Participant is
// expected to implement it (hook: func (p *Participant) JitterStats() jitter.Stats, the zero
// Stats for a participant that sends nothing); until it does, those counters stay at zero.
type JitterStatser interface {
	JitterStats() jitter.Stats
}

// SenderStatser is what the collector needs from a participant to export the RTP packets and
// bytes confd sent it (hook: func (p *Participant) SenderStats() bridge.RTPSenderStats).
type SenderStatser interface {
	SenderStats() bridge.RTPSenderStats
}

// Option changes how Metrics report, not what they measure.
type Option func(*Metrics)

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(m *Metrics) { m.log = l } }

// Registration is the state of one outbound SIP registration, as metrics exports it. Metrics
// owns this type so that it imports no leg; cmd/confd fills it from sipleg's RegistrationState.
type Registration struct {
	// Registrar and User name the entry (the labels of its series).
	Registrar, User string
	// Registered is true while the registrar's last answer was 2xx and it has not expired.
	Registered bool
	// Refreshes counts successful REGISTERs.
	Refreshes int
}

// WithRegistrations exports the state of the outbound SIP registrations that f returns.
func WithRegistrations(f func() []Registration) Option {
	return func(m *Metrics) { m.registrations = f }
}

// WithCollector registers one more collector with the same registry (a webhook's or the WebRTC
// layer's counters, for example).
func WithCollector(c prometheus.Collector) Option {
	return func(m *Metrics) { m.extra = append(m.extra, c) }
}

// WithRoomLabels puts room names into the "room" label of the per-room series. Without it the
// label is an opaque number per room ("room-7"), since an open room's name is its only secret:
// whoever knows it can join or listen in (issue 8 item 11).
func WithRoomLabels(on bool) Option { return func(m *Metrics) { m.roomNames = on } }

// WithToken makes Handler require "Authorization: Bearer token" (401 otherwise); "" leaves
// /metrics open.
func WithToken(token string) Option { return func(m *Metrics) { m.token = token } }

// TickBuckets are the upper bounds, in seconds, of the tick-duration histogram: a tick has 20 ms,
// and one that takes 10 ms or more is close to being late.
var TickBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.004, 0.007, 0.01, 0.015, 0.02, 0.03, 0.05}

// DelayBuckets are the upper bounds, in seconds, of the jitter-buffer delay histogram.
var DelayBuckets = []float64{0.01, 0.02, 0.03, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1}

// maxSIPCode bounds the status codes counted one by one (RFC 3261 section 7.2: 100 to 699).
const maxSIPCode = 700

// Metrics is confd's metrics registry and its collector of bridge statistics.
type Metrics struct {
	b             *bridge.Bridge
	log           *slog.Logger
	reg           *prometheus.Registry
	registrations func() []Registration
	extra         []prometheus.Collector
	roomNames     bool
	token         string

	tick        *prometheus.HistogramVec
	tickMu      sync.RWMutex
	tickByRoom  map[string]prometheus.Observer
	roomLabels  map[string]string // room name → its label value, while the room exists
	lastRoomID  uint64
	jitterDelay prometheus.Histogram
	sipSent     [maxSIPCode]atomic.Uint64 // responses sent, by status code; [0] counts codes outside 100-699
	sipReceived [maxSIPCode]atomic.Uint64 // responses received, likewise

	scrapeMu sync.Mutex // serialises Collect, which owns totals
	totals   legTotals
}

// New returns the metrics of b; Handler serves them.
func New(b *bridge.Bridge, opts ...Option) *Metrics {
	m := &Metrics{
		b: b, log: slog.Default(), reg: prometheus.NewRegistry(),
		tickByRoom: map[string]prometheus.Observer{}, roomLabels: map[string]string{},
		totals: legTotals{seen: map[*bridge.Participant]legCounters{}},
	}
	for _, o := range opts {
		o(m)
	}
	m.tick = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "confd_mixer_tick_duration_seconds", Help: "Time one room tick took, in seconds: mixing, encoding and sending one 20 ms frame.",
		Buckets: TickBuckets,
	}, []string{"room"})
	m.jitterDelay = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "confd_jitter_delay_seconds", Help: "Playout delay of the legs' jitter buffers, in seconds, sampled about once a second per leg.",
		Buckets: DelayBuckets,
	})
	// The histograms are collected by the collector, after it has dropped the series of rooms
	// that ended, rather than registered on their own (the registry collects in parallel).
	m.reg.MustRegister((*collector)(m), buildInfo(), denoisers(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range m.extra {
		m.reg.MustRegister(c)
	}
	return m
}

// Registry returns the registry, for registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves GET /metrics in the Prometheus text format (or OpenMetrics, as negotiated),
// to the holder of the token when WithToken set one.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)})
	if m.token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, _ := guard.BearerToken(r); !guard.SecretMatches(tok, m.token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="confd metrics"`)
			problem.Write(w, http.StatusUnauthorized, "missing or wrong metrics bearer token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// roomLabel returns the "room" label value of room: its name with WithRoomLabels, else a
// number given on first sight and kept while the room lives. The caller holds tickMu.
func (m *Metrics) roomLabel(room string) string {
	if m.roomNames {
		return room
	}
	l, ok := m.roomLabels[room]
	if !ok {
		m.lastRoomID++
		l = "room-" + strconv.FormatUint(m.lastRoomID, 10)
		m.roomLabels[room] = l
	}
	return l
}

// ObserveTick records that one tick of room took d. The room's goroutine calls it once per tick;
// after the room's first tick it allocates nothing.
func (m *Metrics) ObserveTick(room string, d time.Duration) {
	if m == nil {
		return
	}
	m.tickMu.RLock()
	o, ok := m.tickByRoom[room]
	m.tickMu.RUnlock()
	if !ok {
		m.tickMu.Lock()
		if o, ok = m.tickByRoom[room]; !ok {
			o = m.tick.WithLabelValues(m.roomLabel(room))
			m.tickByRoom[room] = o
		}
		m.tickMu.Unlock()
	}
	o.Observe(d.Seconds())
}

// ObserveJitterDelay records one sample of a leg's jitter-buffer playout delay
// (jitter.Buffer.CurrentDelay). It allocates nothing.
func (m *Metrics) ObserveJitterDelay(d time.Duration) {
	if m == nil {
		return
	}
	m.jitterDelay.Observe(d.Seconds())
}

// SIPResponse counts one SIP response by its status code (RFC 3261 section 21), as sent by
// confd (sent) or received from a peer. It allocates nothing; codes outside 100-699 are counted
// as "other".
func (m *Metrics) SIPResponse(code int, sent bool) {
	if m == nil {
		return
	}
	if code < 100 || code >= maxSIPCode {
		code = 0
	}
	if sent {
		m.sipSent[code].Add(1)
	} else {
		m.sipReceived[code].Add(1)
	}
}

// forgetRooms drops the tick histograms and labels of rooms that no longer exist.
func (m *Metrics) forgetRooms(live map[string]bool) {
	m.tickMu.Lock()
	defer m.tickMu.Unlock()
	for room := range m.tickByRoom {
		if !live[room] {
			delete(m.tickByRoom, room)
			m.tick.DeleteLabelValues(m.roomLabel(room))
		}
	}
	for room := range m.roomLabels {
		if !live[room] {
			delete(m.roomLabels, room)
		}
	}
}

// labelOf is roomLabel for a caller that does not hold tickMu.
func (m *Metrics) labelOf(room string) string {
	m.tickMu.Lock()
	defer m.tickMu.Unlock()
	return m.roomLabel(room)
}

// buildInfo is confd_build_info: 1, with the version, commit and Go version of the binary
// (internal/buildinfo, as -version prints them) as labels, the Prometheus convention for
// joining a build to every other series.
func buildInfo() prometheus.Collector {
	b := buildinfo.Get()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "confd_build_info", Help: "Always 1; the labels say which build of confd runs.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Commit, "goversion": b.GoVersion},
	})
	g.Set(1)
	return g
}

// sipCodeLabel is the label value of a counted status code.
func sipCodeLabel(code int) string {
	if code == 0 {
		return "other"
	}
	return strconv.Itoa(code)
}
