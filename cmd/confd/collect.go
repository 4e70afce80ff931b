package main

import (
	"github.com/prometheus/client_golang/prometheus"
)

// legCollector exports the signalling counters of SIP over WebSocket and of the WebRTC legs,
// read at scrape time like the rest of /metrics.
type legCollector struct{ d *daemon }

var (
	descWSConnections = prometheus.NewDesc("confd_sipws_connections", "Open SIP-over-WebSocket connections.", nil, nil)
	descWSRequests    = prometheus.NewDesc("confd_sipws_requests_total", "SIP requests received over WebSocket, by method class.", []string{"kind"}, nil)
	descWebRTCCalls   = prometheus.NewDesc("confd_webrtc_calls", "WebRTC calls in progress (WHIP, WHEP, SIP over WebSocket).", nil, nil)
	descWebRTCTotal   = prometheus.NewDesc("confd_webrtc_offers_total", "WebRTC offers by outcome.", []string{"outcome"}, nil)
)

func (c legCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWSConnections
	ch <- descWSRequests
	ch <- descWebRTCCalls
	ch <- descWebRTCTotal
}

func (c legCollector) Collect(ch chan<- prometheus.Metric) {
	ws := c.d.sipws.Stats()
	ch <- prometheus.MustNewConstMetric(descWSConnections, prometheus.GaugeValue, float64(ws.Connections))
	for kind, v := range map[string]uint64{"register": ws.Registered + ws.Challenged, "invite": ws.Invites,
		"bye": ws.ByeIn, "info_dtmf": ws.DTMF, "malformed": ws.Bad, "all": ws.Requests} {
		ch <- prometheus.MustNewConstMetric(descWSRequests, prometheus.CounterValue, float64(v), kind)
	}
	wr := c.d.webrtc.Stats()
	ch <- prometheus.MustNewConstMetric(descWebRTCCalls, prometheus.GaugeValue, float64(wr.Calls))
	for outcome, v := range map[string]uint64{"answered": wr.Answered, "refused": wr.Refused, "ended": wr.Ended} {
		ch <- prometheus.MustNewConstMetric(descWebRTCTotal, prometheus.CounterValue, float64(v), outcome)
	}
}
