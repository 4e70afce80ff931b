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
)

func (c legCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWSConnections
	ch <- descWSRequests
	ch <- descWebRTCCalls
	ch <- descWebRTCOffers
	ch <- descWebRTCEnded
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
