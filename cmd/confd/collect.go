package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"confd/sipws"
)

// legCollector exports the signalling counters of SIP over WebSocket and of the WebRTC legs,
// read at scrape time like the rest of /metrics.
type legCollector struct{ d *daemon }

var (
	descWSConnections = prometheus.NewDesc("confd_sipws_connections", "Open SIP-over-WebSocket connections (connections).", nil, nil)
	descWSRequests    = prometheus.NewDesc("confd_sipws_requests_total", "SIP requests received over WebSocket, by kind: register, invite, bye, info_dtmf, other, malformed (requests; the kinds add up to all).", []string{"kind"}, nil)
	descWebRTCCalls   = prometheus.NewDesc("confd_webrtc_calls", "WebRTC calls in progress: WHIP, WHEP, SIP over WebSocket (calls).", nil, nil)
	descWebRTCOffers  = prometheus.NewDesc("confd_webrtc_offers_total", "WebRTC offers by outcome: answered or refused (offers).", []string{"outcome"}, nil)
	descWebRTCEnded   = prometheus.NewDesc("confd_webrtc_calls_ended_total", "WebRTC calls that ended (calls).", nil, nil)

	// What the public-address defences refused (README "Security"): a rise is an attack, or
	// limits too tight for a proxy or trunk in front of confd.
	descPINAttempts  = prometheus.NewDesc("confd_pin_attempts_total", "Room PIN tries of every door (IVR, WHIP, WHEP, SIP over WebSocket) by outcome: right, wrong, or refused unchecked after too many failures (tries).", []string{"outcome"}, nil)
	descSIPRefused   = prometheus.NewDesc("confd_sip_admission_refused_total", "SIP requests and calls refused by the per-source limits, answered 503 or dropped unanswered (requests).", []string{"how"}, nil)
	descSIPTCPClosed = prometheus.NewDesc("confd_sip_tcp_connections_closed_total", "SIP/TCP connections closed by confd's limits: over the per-source cap, or idle or slow (connections).", []string{"reason"}, nil)
	descWSRefused    = prometheus.NewDesc("confd_sipws_handshakes_refused_total", "SIP-over-WebSocket upgrades refused for a foreign Origin or the connection caps and rate (handshakes).", []string{"reason"}, nil)
	descWSClosed     = prometheus.NewDesc("confd_sipws_connections_closed_total", "SIP-over-WebSocket connections closed by confd's limits: idle, slow message, flood, oversize message (connections).", []string{"reason"}, nil)
	descHTTPRefused  = prometheus.NewDesc("confd_http_connections_refused_total", "HTTP connections closed at once: over a source's connection cap or rate (limit), or a listed proxy's without a good PROXY protocol header (proxy_header) (connections).", []string{"reason"}, nil)
	descWSRateLimit  = prometheus.NewDesc("confd_sipws_rate_limited_total", "SIP-over-WebSocket INVITEs and REGISTERs refused by the per-source request rate (requests).", nil, nil)
)

func (c legCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWSConnections
	ch <- descWSRequests
	ch <- descWebRTCCalls
	ch <- descWebRTCOffers
	ch <- descWebRTCEnded
	for _, d := range []*prometheus.Desc{descPINAttempts, descSIPRefused, descSIPTCPClosed, descWSRefused, descWSClosed, descWSRateLimit, descHTTPRefused} {
		ch <- d
	}
}

func (c legCollector) Collect(ch chan<- prometheus.Metric) {
	ws := c.d.sipws.Stats()
	ch <- prometheus.MustNewConstMetric(descWSConnections, prometheus.GaugeValue, float64(ws.Connections))
	for kind, v := range wsRequestKinds(ws) {
		ch <- prometheus.MustNewConstMetric(descWSRequests, prometheus.CounterValue, float64(v), kind)
	}
	wr := c.d.webrtc.Stats()
	ch <- prometheus.MustNewConstMetric(descWebRTCCalls, prometheus.GaugeValue, float64(wr.Calls))
	for outcome, v := range map[string]uint64{"answered": wr.Answered, "refused": wr.Refused} {
		ch <- prometheus.MustNewConstMetric(descWebRTCOffers, prometheus.CounterValue, float64(v), outcome)
	}
	ch <- prometheus.MustNewConstMetric(descWebRTCEnded, prometheus.CounterValue, float64(wr.Ended))

	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	pins := c.d.pins.Stats()
	counter(descPINAttempts, pins.Right, "right")
	counter(descPINAttempts, pins.Wrong, "wrong")
	counter(descPINAttempts, pins.Refused, "refused")
	adm := c.d.sip.AdmissionStats()
	counter(descSIPRefused, adm.Answered, "answered")
	counter(descSIPRefused, adm.Dropped, "dropped")
	counter(descSIPTCPClosed, adm.TCPRefused, "cap")
	counter(descSIPTCPClosed, adm.TCPTimedOut, "timeout")
	counter(descWSRefused, ws.ForeignOrigin, "origin")
	counter(descWSRefused, ws.ConnLimited, "limit")
	counter(descWSClosed, ws.Idle, "idle")
	counter(descWSClosed, ws.Slow, "slow")
	counter(descWSClosed, ws.Flooded, "flood")
	counter(descWSClosed, ws.Oversize, "oversize")
	counter(descWSRateLimit, ws.RateLimited)
	if l := c.d.conns; l != nil {
		counter(descHTTPRefused, l.Refused(), "limit")
		counter(descHTTPRefused, l.BadProxyHeaders(), "proxy_header")
	}
}

// wsRequestKinds splits the SIP-over-WebSocket requests into kinds that add up to every request
// received, with no total beside them (a sum over kind="all" and its parts counted each request
// twice): the well-formed requests that are not a REGISTER, an INVITE, a BYE or a DTMF INFO are
// "other" (ACK, CANCEL, OPTIONS, re-INVITEs, ...), the malformed ones "malformed".
func wsRequestKinds(ws sipws.Stats) map[string]uint64 {
	kinds := map[string]uint64{"register": ws.Registered + ws.Challenged, "invite": ws.Invites,
		"bye": ws.ByeIn, "info_dtmf": ws.DTMF, "malformed": ws.Bad}
	named := kinds["register"] + kinds["invite"] + kinds["bye"] + kinds["info_dtmf"]
	kinds["other"] = ws.Requests - min(named, ws.Requests) // counters read one by one may overlap
	return kinds
}
