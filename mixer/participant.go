package mixer

import (
	"fmt"
	"time"

	"confd/codec"
)

// ID identifies a participant within one mixer. The owner (the room) assigns it; the mixer only
// requires it to be unique among the participants present.
type ID uint32

// Role is a participant's rule in the matrix, applied every tick so that it also holds for
// participants who join later (docs/SPEC.md "What each participant hears").
type Role uint8

const (
	// RoleNormal hears the room and is heard by everyone (subject to mute, deaf and gains).
	RoleNormal Role = iota
	// RoleCoach hears the room but is heard only by its target participant: a whisper.
	RoleCoach
	// RoleMonitor hears the room and is heard by no one.
	RoleMonitor
)

// roleNames holds each role's name as the control API spells it, indexed by Role: the one place
// String and ParseRole read them from.
var roleNames = [...]string{RoleNormal: "normal", RoleCoach: "coach", RoleMonitor: "monitor"}

// String returns the role's name as the control API spells it.
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// ParseRole returns the Role the control API names "normal", "coach" or "monitor".
func ParseRole(s string) (Role, error) {
	for r, name := range roleNames {
		if s == name {
			return Role(r), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrBadRole, s)
}

// Source is a participant's input, read once per tick in two phases so that only audible
// participants are decoded. jitter.Buffer implements it.
type Source interface {
	// Advance moves the input to the tick at now and reports what it holds without decoding:
	// whether there is audio and, when the packet carried one (RFC 6464 header extension, G.711
	// energy, Opus DTX), its level. Called exactly once per tick.
	Advance(now time.Time) codec.Activity
	// Read decodes (or conceals) the tick's audio into f and reports whether it did. Called at
	// most once per tick, after Advance, and only for participants the mixer needs to hear,
	// whose level is unknown, or (at most every half second) whose steady loud level needs a
	// look at the waveform to tell a voice from a fan.
	Read(f *codec.Frame) bool
}

// ParticipantConfig describes a joining participant.
type ParticipantConfig struct {
	// Source is the participant's input; nil for one who sends nothing (a WHEP listener).
	Source Source
	// Format is the encoding of what the participant hears; the zero Format (no Codec) means
	// it receives nothing (a send-only WHIP publisher).
	Format codec.Format
	// Premixed marks a source that is itself a conference's mix: a cascade leg from another
	// confd node. Its talkers were chosen and faded in where it was mixed, so when it starts
	// talking from silence it enters this mix at full level instead of being faded in a second
	// time, which softened every onset across a cascade and delayed it by a quarter of a frame
	// (a ramp over a ramp reaches a third of the level 11.5 ms into the frame, not 6.7).
	Premixed bool
}

// mixState says how a participant's audio enters the mixes of one tick.
type fade uint8

const (
	fadeNone  fade = iota // steady: full level over the whole frame
	fadeIn                // joins the mix: ramps up over the frame
	fadeOut               // leaves the mix (talker stopped or outvoiced): ramps down over the frame
	fadeCut               // removed by a rule (mute, role): ramps down over cutSamples, then silence
	fadeEnter             // joins the mix at full level: a Premixed source starting from silence
)

// participant is one slot of the dense participant table. Slots are reused after Remove so the
// tick walks a compact slice and never a map.
type participant struct {
	id     ID
	active bool
	src    Source
	format int32 // index into Mixer.formats, -1 when the participant receives nothing
	frame  *codec.Frame

	muted, deaf bool
	role        Role
	target      ID    // the coach's target
	targetSlot  int32 // the target's slot, -1 when absent or not a coach
	row         []rowEntry
	solo        ID // the one speaker this listener hears (SetSolo), 0 for the room

	// Stereo placement (stereo.go).
	req        codec.Format // the Format asked for (Add, SetFormat); Stereo: it accepts stereo
	pan        float32      // where stereo listeners hear it, -1 to 1
	panL, panR int32        // pan as constant-power Q14 gains
	rowPanned  bool         // its row holds a pan other than 0

	voiceTrack

	proc     Processor // cleans its frame before it is mixed (process.go); nil for none
	procTick uint64    // the last tick proc processed its frame

	// Unvoiced input (codec.Activity.Unvoiced): unvoicedLoud is true while the last decoded
	// frame of it was loud enough to be voice, and unvoicedProbe the tick at which a quiet one
	// is decoded again for its level.
	unvoicedLoud  bool
	unvoicedProbe uint64

	// Per-tick state, valid when the tick field equals Mixer.tick.
	present    bool         // Advance reported audio
	readTick   uint64       // frame holds this tick's audio
	mixedTick  uint64       // a talker-class contributor of this tick (shared mix)
	coachTick  uint64       // some whispering coach targets this participant this tick
	fade       fade         // how its frame enters this tick's mixes
	inTalkers  bool         // in Mixer.talkers (selected as a talker)
	inShared   bool         // in the shared mix at the end of the tick (a talker, not the reserve)
	weight     weight       // how its frame enters this tick's shared mix
	sharedPCM  *codec.Frame // its frame as the shared mix has it this tick, nil for none
	inCoaches  bool         // in Mixer.coaches (whispering)
	lingerTill time.Time
	premixed   bool   // ParticipantConfig.Premixed
	onsetTick  uint64 // the tick it last began talking from silence (Premixed only matters)

	// Output state.
	priv      *group // private output group, nil when the participant shares one
	grp       *group // the group it listened to this tick
	lastEmpty bool   // its last due packet was empty (DTX) or it has sent none yet
	out       Output
}

// heardByAll reports whether the participant's voice may go into the shared mix: not muted
// and a normal role (a coach is heard by its target only, a monitor by no one).
func (p *participant) heardByAll() bool { return !p.muted && p.role == RoleNormal }

// whispers reports whether the participant is a coach whose whisper can reach its target.
func (p *participant) whispers() bool {
	return !p.muted && p.role == RoleCoach && p.targetSlot >= 0
}

// Add puts a participant in the room. Allocation happens here (its frame, its output group's
// encoders when its Format is new) and not in Tick. It returns ErrDuplicateParticipant, or an
// error wrapping codec.ErrBadFormat / codec.ErrUnknownCodec when the Format is unusable.
func (m *Mixer) Add(id ID, pc ParticipantConfig) error {
	if _, ok := m.index[id]; ok {
		return fmt.Errorf("%w: %d", ErrDuplicateParticipant, id)
	}
	fi := int32(-1)
	if pc.Format.Codec != 0 {
		var err error
		if fi, err = m.formatFor(m.outputFormat(&participant{req: pc.Format})); err != nil {
			return err
		}
	}
	var s int32
	if n := len(m.free); n > 0 {
		s = m.free[n-1]
		m.free = m.free[:n-1]
	} else {
		m.slots = append(m.slots, participant{})
		s = int32(len(m.slots) - 1)
	}
	p := &m.slots[s]
	frame := p.frame
	if frame == nil {
		frame = new(codec.Frame)
	}
	*p = participant{id: id, active: true, src: pc.Source, format: -1, frame: frame,
		targetSlot: -1, lastEmpty: true, req: pc.Format, premixed: pc.Premixed}
	p.panL, p.panR = panGains(0)
	p.rank = float32(codec.Silence)
	m.index[id] = s
	m.count++
	m.switchFormat(p, fi)
	// Coaches whose target is this ID (set before it joined, or a rejoin) find it again.
	for i := range m.slots {
		if q := &m.slots[i]; q.active && q.role == RoleCoach && q.target == id {
			q.targetSlot = s
		}
	}
	m.growScratch()
	m.log.Debug("mixer: participant added", "id", id, "format", pc.Format.String())
	return nil
}

// Remove takes a participant out of the room at once (its source is gone, so there is nothing
// to fade), drops the matrix pairs that name it and returns its encoder to the pool.
func (m *Mixer) Remove(id ID) error {
	s, ok := m.index[id]
	if !ok {
		return fmt.Errorf("%w: %d", ErrUnknownParticipant, id)
	}
	p := &m.slots[s]
	m.talkers = removeSlot(m.talkers, s)
	m.coaches = removeSlot(m.coaches, s)
	m.switchFormat(p, -1)
	for i := range m.slots {
		if q := &m.slots[i]; q.active && q.targetSlot == s {
			q.targetSlot = -1
		}
	}
	m.dropPairsOf(id)
	delete(m.index, id)
	panned := p.pan != 0
	frame := p.frame
	*p = participant{frame: frame, format: -1, targetSlot: -1}
	m.free = append(m.free, s)
	m.count--
	if panned {
		m.roomPans--
		m.placeAll()
	}
	m.log.Debug("mixer: participant removed", "id", id)
	return nil
}

func removeSlot(list []int32, s int32) []int32 {
	for i, v := range list {
		if v == s {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

func (m *Mixer) lookup(id ID) (*participant, error) {
	s, ok := m.index[id]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnknownParticipant, id)
	}
	return &m.slots[s], nil
}

// SetMuted mutes or unmutes a participant: a muted participant is heard by no one, from the
// next tick on (its voice is cut within the first 2.5 ms of that tick).
func (m *Mixer) SetMuted(id ID, muted bool) error {
	return m.update(id, func(p *participant) { p.muted = muted })
}

// SetDeaf makes a participant hear nothing (it receives the encoded silence of its Format's
// silent group, so its leg keeps sending for NAT and RTCP), from the next tick on.
func (m *Mixer) SetDeaf(id ID, deaf bool) error {
	return m.update(id, func(p *participant) { p.deaf = deaf })
}

// update applies set to participant id, or returns ErrUnknownParticipant.
func (m *Mixer) update(id ID, set func(*participant)) error {
	p, err := m.lookup(id)
	if err != nil {
		return err
	}
	set(p)
	return nil
}

// SetRole sets a participant's role. A coach needs a target that is present and is not itself;
// target is ignored for the other roles.
func (m *Mixer) SetRole(id ID, role Role, target ID) error {
	p, err := m.lookup(id)
	if err != nil {
		return err
	}
	ts := int32(-1)
	switch role {
	case RoleNormal, RoleMonitor:
		target = 0
	case RoleCoach:
		s, ok := m.index[target]
		if !ok || target == id {
			return fmt.Errorf("%w: coach %d needs another participant as target, not %d", ErrBadRole, id, target)
		}
		ts = s
	default:
		return fmt.Errorf("%w: %d", ErrBadRole, role)
	}
	p.role, p.target, p.targetSlot = role, target, ts
	return nil
}

// Role returns a participant's role and, for a coach, its target.
func (m *Mixer) Role(id ID) (Role, ID, error) {
	p, err := m.lookup(id)
	if err != nil {
		return 0, 0, err
	}
	return p.role, p.target, nil
}

// Muted reports whether a participant is muted (false for an unknown ID).
func (m *Mixer) Muted(id ID) bool {
	p, err := m.lookup(id)
	return err == nil && p.muted
}

// Deaf reports whether a participant is deaf (false for an unknown ID).
func (m *Mixer) Deaf(id ID) bool {
	p, err := m.lookup(id)
	return err == nil && p.deaf
}

// Len returns the number of participants.
func (m *Mixer) Len() int { return m.count }
