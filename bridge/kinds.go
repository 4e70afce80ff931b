package bridge

// The participant kinds (ParticipantInfo.Kind). People come in as KindSIP (a phone, by SIP over
// UDP or TCP) or KindWebRTC (a browser: WHIP, WHEP, or sip.js over the /sip WebSocket); a
// KindCascade leg carries the people of another node (cascade.go). The other three are confd's
// own (Internal): a recording's recorder, a prompt's or a chime's player, an RTP forwarder.
const (
	KindSIP     = "sip"
	KindWebRTC  = "webrtc"
	KindCascade = "cascade"
	// KindRecorder is a recording's participant (package confd/internal/recording): it sends
	// nothing and hears the room; the recording publishes "recording" events.
	KindRecorder = "recorder"
	// KindPlayer plays an announcement, a tone or a chime into the room and hears nothing.
	KindPlayer = "player"
	// KindForwarder is an RTP forwarder (package confd/rtpfwd), which publishes
	// forwarder_started and forwarder_stopped.
	KindForwarder = "forwarder"
)

// ListedKinds are the kinds a participant's state, a join and the confd_legs metric can show
// (docs/SPEC.md "Control API", openapi.json's ParticipantState): confd's own participants are
// never listed.
var ListedKinds = []string{KindSIP, KindWebRTC, KindCascade}

// InternalKind reports whether a participant of kind is confd's own rather than a person or a
// cascade leg: the one rule for what the room lists (State), announces (no join or leave:
// its owner publishes events of its own, so chimes, webhooks and the web page never take it
// for a person), counts (its limit, the census, metrics) and lets a moderator act on.
func InternalKind(kind string) bool {
	return kind == KindRecorder || kind == KindPlayer || kind == KindForwarder
}

// Kind returns the participant's kind (ParticipantInfo.Kind).
func (p *Participant) Kind() string { return p.info.Kind }

// Internal reports whether the participant is confd's own (InternalKind): a recorder, a player
// or an RTP forwarder rather than a person.
func (p *Participant) Internal() bool { return InternalKind(p.info.Kind) }
