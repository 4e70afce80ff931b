package metrics

import (
	"cmp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"confd/bridge"
)

// The per-leg counters summed over every leg, in legCounters order.
const (
	cReceived = iota
	cPlayed
	cLate
	cLost
	cConcealed
	cFECRecovered
	cDuplicates
	cDropped
	cExpanded
	cInvalid
	cSentPackets
	cSentBytes
	numLegCounters
)

// legCounters are one leg's counters at one scrape.
type legCounters [numLegCounters]uint64

// legCounterDescs describe the totals, indexed like legCounters.
var legCounterDescs = [numLegCounters]*prometheus.Desc{
	cReceived:     desc("confd_rtp_received_packets_total", "RTP audio packets received and accepted by the legs' jitter buffers (packets)."),
	cPlayed:       desc("confd_jitter_played_packets_total", "Audio packets the jitter buffers played out (packets)."),
	cLate:         desc("confd_jitter_late_packets_total", "Packets that arrived after their turn to play had passed, dropped (packets)."),
	cLost:         desc("confd_jitter_lost_packets_total", "Audio packets the playout gave up on as lost (packets)."),
	cConcealed:    desc("confd_jitter_concealed_total", "Packet loss concealment runs played (20 ms frames)."),
	cFECRecovered: desc("confd_jitter_fec_recovered_total", "Lost packets rebuilt from Opus in-band FEC (packets)."),
	cDuplicates:   desc("confd_jitter_duplicate_packets_total", "Packets received twice (packets)."),
	cDropped:      desc("confd_jitter_dropped_packets_total", "Audio packets skipped to shorten the playout delay (packets)."),
	cExpanded:     desc("confd_jitter_expanded_total", "Ticks the playout stretched by concealment to wait or grow the delay (20 ms frames)."),
	cInvalid:      desc("confd_rtp_invalid_packets_total", "RTP packets the jitter buffers refused: a payload type not negotiated, an empty or oversized payload (packets)."),
	cSentPackets:  desc("confd_rtp_sent_packets_total", "RTP packets sent to the legs (packets)."),
	cSentBytes:    desc("confd_rtp_sent_bytes_total", "RTP payload sent to the legs (bytes)."),
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	descRooms            = desc("confd_rooms", "Rooms with participants (rooms).")
	descLegs             = desc("confd_legs", "Participants by kind (sip, webrtc, cascade) and codec; confd's own recorders, players and forwarders are not counted (participants).", "kind", "codec")
	descRoomParticipants = desc("confd_room_participants", "Participants the room lists: people and cascade legs (participants).", "room")
	descRoomTalkers      = desc("confd_room_talkers", "Talkers mixed in the room's last tick (participants).", "room")
	descRoomGroups       = desc("confd_room_encode_groups", "Output groups that encoded a packet in the room's last tick (groups).", "room")
	descRoomPrivate      = desc("confd_room_private_listeners", "Listeners with an encoder of their own after the last tick (participants).", "room")
	descRoomEncodesTick  = desc("confd_room_encodes_per_tick", "Encoder calls in the room's last tick (calls).", "room")
	descRoomDecodesTick  = desc("confd_room_decodes_per_tick", "Decoder reads in the room's last tick (calls).", "room")
	descRoomTicks        = desc("confd_room_ticks_total", "Ticks the room's clock ran (20 ms ticks).", "room")
	descRoomLateTicks    = desc("confd_room_late_ticks_total", "Ticks that started more than half a frame after they were due (ticks).", "room")
	descRoomSkippedTicks = desc("confd_room_skipped_ticks_total", "Ticks skipped because the room would have started them a frame or more late (a stall, or a room short of CPU): late work is dropped, never queued (ticks).", "room")
	descRoomEncodes      = desc("confd_room_encodes_total", "Encoder calls in the room (calls).", "room")
	descRoomDecodes      = desc("confd_room_decodes_total", "Decoder reads in the room (calls).", "room")
	descRoomEncodeErrors = desc("confd_room_encode_errors_total", "Failed encodes in the room (calls).", "room")
	descSIPSent          = desc("confd_sip_responses_sent_total", "SIP responses confd sent on UDP and TCP, by status code (responses).", "code")
	descSIPReceived      = desc("confd_sip_responses_received_total", "SIP responses confd received on UDP and TCP, by status code (responses).", "code")
	descRegistrationUp   = desc("confd_sip_registration_up", "1 while an outbound registration is current, else 0 (boolean).", "registrar", "user")
	descRegistrationRefr = desc("confd_sip_registration_refreshes_total", "Successful REGISTERs of an outbound registration (requests).", "registrar", "user")
)

// collector is Metrics seen as a prometheus.Collector of the bridge's statistics.
type collector Metrics

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range legCounterDescs {
		ch <- d
	}
	for _, d := range []*prometheus.Desc{descRooms, descLegs, descRoomParticipants, descRoomTalkers, descRoomGroups,
		descRoomPrivate, descRoomEncodesTick, descRoomDecodesTick, descRoomTicks, descRoomLateTicks, descRoomSkippedTicks,
		descRoomEncodes, descRoomDecodes, descRoomEncodeErrors, descSIPSent, descSIPReceived, descRegistrationUp, descRegistrationRefr} {
		ch <- d
	}
	c.tick.Describe(ch)
	c.jitterDelay.Describe(ch)
}

type legKey struct{ kind, codec string }

// Collect implements prometheus.Collector: one walk over the rooms and their participants.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	m := (*Metrics)(c)
	m.scrapeMu.Lock()
	defer m.scrapeMu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	live := map[string]bool{}
	legs := map[legKey]int{}
	current := map[*bridge.Participant]legCounters{}
	running := 0
	for _, summary := range m.b.Rooms() {
		live[summary.Room] = true
		r, ok := m.b.Room(summary.Room)
		if !ok {
			continue // declared and empty
		}
		running++
		name := m.labelOf(r.Name())
		ms, cs, st := r.MixerStats(), r.ClockStats(), r.State()
		gauge(descRoomParticipants, float64(len(st.Participants)), name)
		gauge(descRoomTalkers, float64(ms.Talkers), name)
		gauge(descRoomGroups, float64(ms.Groups), name)
		gauge(descRoomPrivate, float64(ms.PrivateListeners), name)
		gauge(descRoomEncodesTick, float64(ms.EncodesLastTick), name)
		gauge(descRoomDecodesTick, float64(ms.DecodesLastTick), name)
		counter(descRoomTicks, cs.Ticks, name)
		counter(descRoomLateTicks, cs.Late, name)
		counter(descRoomSkippedTicks, cs.Skipped, name)
		counter(descRoomEncodes, ms.Encodes, name)
		counter(descRoomDecodes, ms.Decodes, name)
		counter(descRoomEncodeErrors, ms.EncodeErrors, name)
		for _, ps := range st.Participants { // as GET lists them: bridge.ListedKinds
			legs[legKey{ps.Kind, ps.Codec}]++
			if p, err := r.Participant(ps.ID); err == nil {
				current[p] = countersOf(p)
			}
		}
	}
	m.forgetRooms(live)
	m.tick.Collect(ch)
	m.jitterDelay.Collect(ch)
	gauge(descRooms, float64(running))
	keys := make([]legKey, 0, len(legs))
	for k := range legs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b legKey) int { return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.codec, b.codec)) })
	for _, k := range keys {
		gauge(descLegs, float64(legs[k]), k.kind, k.codec)
	}
	totals := m.totals.update(current)
	for i, d := range legCounterDescs {
		counter(d, totals[i])
	}
	for code := range m.sipSent {
		if n := m.sipSent[code].Load(); n > 0 {
			counter(descSIPSent, n, sipCodeLabel(code))
		}
		if n := m.sipReceived[code].Load(); n > 0 {
			counter(descSIPReceived, n, sipCodeLabel(code))
		}
	}
	if m.registrations != nil {
		for _, st := range m.registrations() {
			up := 0.0
			if st.Registered {
				up = 1
			}
			gauge(descRegistrationUp, up, st.Registrar, st.User)
			counter(descRegistrationRefr, uint64(max(st.Refreshes, 0)), st.Registrar, st.User)
		}
	}
}

// countersOf reads one participant's counters through the hooks it implements.
func countersOf(p *bridge.Participant) legCounters {
	var c legCounters
	if js, ok := any(p).(JitterStatser); ok {
		s := js.JitterStats()
		c[cReceived], c[cPlayed], c[cLate], c[cLost] = s.Pushed, s.Played, s.Late, s.Lost
		c[cConcealed], c[cFECRecovered], c[cDuplicates] = s.Concealed, s.FECRecovered, s.Duplicates
		c[cDropped], c[cExpanded], c[cInvalid] = s.Dropped, s.Expanded, s.Invalid
	}
	if ss, ok := any(p).(SenderStatser); ok {
		s := ss.SenderStats()
		c[cSentPackets], c[cSentBytes] = s.Packets, s.Octets
	}
	return c
}

// legTotals keeps the sums over legs monotonic across leaves and counter restarts.
type legTotals struct {
	seen    map[*bridge.Participant]legCounters
	retired legCounters
}

// update takes this scrape's counters of the present legs and returns the totals: the retired
// base (the last-seen counters of legs that left, and of counters that went backwards because a
// leg's jitter buffer was replaced) plus the present counters.
func (t *legTotals) update(current map[*bridge.Participant]legCounters) legCounters {
	for p, last := range t.seen {
		cur, ok := current[p]
		for i := range last {
			if !ok || cur[i] < last[i] {
				t.retired[i] += last[i]
			}
		}
	}
	t.seen = current
	sum := t.retired
	for _, cur := range current {
		for i := range cur {
			sum[i] += cur[i]
		}
	}
	return sum
}
