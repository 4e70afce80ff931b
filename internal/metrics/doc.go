// Package metrics serves confd's Prometheus metrics (GET /metrics, the text exposition format).
//
// Almost everything is read at scrape time from the counters the media path keeps anyway: a
// custom prometheus.Collector walks the bridge's rooms and participants and turns their atomic
// Stats snapshots (mixer.Stats, bridge.ClockStats, jitter.Stats, bridge.RTPSenderStats) into
// constant metrics, so no packet and no tick ever calls into the Prometheus library for them.
// Totals over participants stay monotonic when a participant leaves or its jitter buffer is
// replaced: the collector remembers each participant's last-seen counters and folds them into a
// retired base when they disappear or go backwards.
//
// Three things need an observation per event, and have allocation-free hooks that the bridge
// and the SIP layer call:
//
//   - (*Metrics).ObserveTick(room, d): the duration of one room tick (mixer, encodes, sends),
//     into a per-room histogram whose observer is resolved once per room;
//   - (*Metrics).ObserveJitterDelay(d): a leg's jitter-buffer playout delay, sampled per tick;
//   - (*Metrics).SIPResponse(code, sent): one SIP response sent or received, counted by status
//     code in confd_sip_responses_sent_total or confd_sip_responses_received_total.
//
// No series is the sum of others beside them (no kind="all"): sum the parts. Every metric, its
// unit and its labels are listed in docs/metrics.md, which TestEveryMetricDocumented keeps
// complete.
//
// A nil *Metrics accepts every hook call and does nothing, so the hooks can be wired
// unconditionally.
//
// The per-room series carry a "room" label that is an opaque number per room ("room-7", kept
// while the room lives) unless WithRoomLabels asks for names: for an open room the name is the
// only secret, and a scraper must not learn it. WithToken puts /metrics behind a bearer token.
package metrics
