package bridge

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"confd/codec"
	"confd/jitter"
	"confd/mixer"
)

// Errors that joining can return; StatusOf (status.go) maps them to SIP and HTTP statuses
// (docs/SPEC.md "Errors").
var (
	// ErrBadRoomName: the name does not match [A-Za-z0-9_-]{1,64} (SIP 404, HTTP 400).
	ErrBadRoomName = errors.New("bridge: bad room name")
	// ErrRoomLocked: the room refuses new participants (SIP 403, HTTP 403).
	ErrRoomLocked = errors.New("bridge: room is locked")
	// ErrRoomFull: the room has reached its participant limit (SIP 486, HTTP 409).
	ErrRoomFull = errors.New("bridge: room is full")
	// ErrRoomEnding: the room is ending with its moderator (end_with_moderator): its people are
	// hearing the end prompt and about to be hung up, and no one new joins them (SIP 480, HTTP
	// 409). Once it has emptied, it starts afresh.
	ErrRoomEnding = errors.New("bridge: the conference is ending")
	// ErrDraining: confd is shutting down and takes no new calls (SIP 503, HTTP 503).
	ErrDraining = errors.New("bridge: draining, no new calls")
	// ErrNoRoom: no such room (HTTP 404).
	ErrNoRoom = errors.New("bridge: no such room")
	// ErrNoParticipant: no such participant in the room (HTTP 404).
	ErrNoParticipant = errors.New("bridge: no such participant")
	// ErrBadSetting: a room setting or participant change is out of range (HTTP 400).
	ErrBadSetting = errors.New("bridge: bad setting")
	// ErrAlreadyRunning: what was asked to start in a room is already running there, such as a
	// second recording of it (HTTP 409).
	ErrAlreadyRunning = errors.New("bridge: already running")
	// ErrNotRunning: what was asked to stop in a room is not running there, such as a recording
	// of a room that is not being recorded (HTTP 404).
	ErrNotRunning = errors.New("bridge: not running")
)

// RoomNamePattern is docs/SPEC.md's rule for a room's name ("Rooms").
const RoomNamePattern = `[A-Za-z0-9_-]{1,64}`

var roomName = regexp.MustCompile(`^` + RoomNamePattern + `$`)

// ValidRoomName reports whether name is a room name docs/SPEC.md allows.
func ValidRoomName(name string) bool { return roomName.MatchString(name) }

// CheckRoomName returns nil for a room name docs/SPEC.md allows, else an ErrBadRoomName that
// says the rule: the one refusal of a bad name, whether the bridge, the API, WHIP/WHEP or a
// service (recording, forwarding) finds it.
func CheckRoomName(name string) error {
	if ValidRoomName(name) {
		return nil
	}
	return fmt.Errorf("%w %q: it must match %s", ErrBadRoomName, name, RoomNamePattern)
}

// Config sets up a Bridge. The zero value is complete: no declared rooms, the mixer's and the
// jitter buffer's own defaults.
type Config struct {
	// Rooms are the declared rooms and their settings.
	Rooms map[string]RoomSettings
	// Mixer is the template of every room's mixer configuration; a room's TopK setting
	// overrides Mixer.TopK.
	Mixer mixer.Config
	// Jitter is the template of every leg's jitter buffer; a leg's payload types replace
	// Jitter.PayloadTypes.
	Jitter jitter.Config
	// Observer, when set, is told every tick's duration and a sample of the legs' playout
	// delays (metrics). Its methods run on the room goroutines and must not block or allocate.
	Observer Observer
	// RTCPInterval is the mean interval between the RTCP reports (SR or RR, and SDES) the room
	// sends each participant whose leg is an RTCPLeg, randomised to [0.5, 1.5] of it (RFC 3550
	// section 6.3.1); zero means DefaultRTCPInterval (5 s).
	RTCPInterval time.Duration
}

// Observer receives the measurements that need an observation per event rather than a counter
// read at scrape time.
type Observer interface {
	// ObserveTick is told how long one tick of room took (mixer, encodes, sends).
	ObserveTick(room string, d time.Duration)
	// ObserveJitterDelay is told a leg's current playout delay; every leg is sampled about
	// once a second.
	ObserveJitterDelay(d time.Duration)
}

// Option changes how a Bridge reports, not what it does.
type Option func(*Bridge)

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(b *Bridge) { b.log = l } }

// Bridge is the set of rooms and their participants: what the legs join and the API controls.
type Bridge struct {
	cfg      Config
	log      *slog.Logger
	bus      *Bus
	mu       sync.Mutex
	rooms    map[string]*Room
	declared map[string]RoomSettings
	nextMix  atomic.Uint32 // the mixer's ids for participants
	draining atomic.Bool
	wg       sync.WaitGroup
	noClock  bool // tests: rooms get no goroutine, the test is their owner and ticks them

	// music is the decoded hold music by path (holdmusic.go), under mu.
	music map[string]*HoldMusic
	// seats counts rooms' people on the other nodes of a cluster (seats.go); nil alone.
	seats Seats
}

// New returns a Bridge with cfg's declared rooms; one whose settings RoomSettings.Validate
// refuses is declared locked instead (declareChecked).
func New(cfg Config, opts ...Option) *Bridge {
	b := &Bridge{cfg: cfg, log: slog.Default(), bus: NewBus(), rooms: map[string]*Room{}, declared: map[string]RoomSettings{}}
	for _, o := range opts {
		o(b)
	}
	b.declareChecked(cfg.Rooms)
	return b
}

// Bus returns the event bus every room publishes on.
func (b *Bridge) Bus() *Bus { return b.bus }

// Drain makes the bridge refuse new participants (ErrDraining) while the present ones go on.
func (b *Bridge) Drain() { b.draining.Store(true) }

// Draining reports whether Drain was called.
func (b *Bridge) Draining() bool { return b.draining.Load() }

// settingsLocked returns the settings of room name, declared or default, with the caller holding
// b.mu.
func (b *Bridge) settingsLocked(name string) (RoomSettings, bool) {
	if r, ok := b.rooms[name]; ok {
		v := r.snapshot()
		return v.settings, v.declared
	}
	s, ok := b.declared[name]
	return s, ok
}

// Admit checks whether a new participant may enter room now, without joining: the legs call it
// before answering so that a locked or full room is refused with the right status, and so that
// a room with a PIN is known to need one. In a cluster a room's limit counts its people on
// every node (seats.go). It returns the room's settings.
func (b *Bridge) Admit(room string) (RoomSettings, error) { return b.admit(room, true) }

// admit is Admit; askOwner says whether a room owned by another node asks it whether the room
// is full (a join takes a seat from it instead).
func (b *Bridge) admit(room string, askOwner bool) (RoomSettings, error) {
	if err := CheckRoomName(room); err != nil {
		return RoomSettings{}, err
	}
	if b.draining.Load() {
		return RoomSettings{}, ErrDraining
	}
	b.mu.Lock()
	s, _ := b.settingsLocked(room)
	here, ending := 0, false
	if r, ok := b.rooms[room]; ok {
		v := r.snapshot()
		here, ending = v.people, v.ending
	}
	b.mu.Unlock()
	if err := s.refusal(here+b.elsewhere(room), ending); err != nil {
		return s, err
	}
	if s.Limit > 0 && askOwner && b.seats != nil && b.seats.Full(room, s.Limit) {
		return s, ErrRoomFull
	}
	return s, nil
}

// Declare creates or updates a declared room, which keeps its settings while empty (docs/SPEC.md
// "Rooms"). Settings of a running room take effect at once (TopK on the next tick).
func (b *Bridge) Declare(name string, s RoomSettings) error {
	if err := CheckRoomName(name); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	music, err := b.holdMusic(s.HoldMusic)
	if err != nil {
		return fmt.Errorf("%w: hold_music: %w", ErrBadSetting, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.declared[name] = s
	if r, ok := b.rooms[name]; ok {
		r.do(func() {
			r.settings, r.declared = s, true
			r.mix.SetTopK(s.TopK)
			r.program.music = music
			r.applyRoomPreprocessing()
		})
	}
	return nil
}

// Undeclare removes room name's declaration (DELETE /api/rooms/ROOM), or returns ErrNoRoom
// when it is not declared. A room with participants goes on with its settings (its PIN stays
// asked, its limit kept) as an ad-hoc room, forgotten when it empties.
func (b *Bridge) Undeclare(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.declared[name]; !ok {
		return fmt.Errorf("%w: %q is not declared", ErrNoRoom, name)
	}
	delete(b.declared, name)
	if r, ok := b.rooms[name]; ok {
		r.do(func() { r.declared = false })
	}
	return nil
}

// Declared returns the declared rooms and their settings as declared (0 for a default).
func (b *Bridge) Declared() map[string]RoomSettings {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.declared)
}

// Join puts a participant into room, creating an ad-hoc room if needed, and starts the room's
// clock if it was idle. The caller has checked the PIN. The returned Participant is the leg's
// handle: it pushes received packets into it and calls Leave when the call ends.
func (b *Bridge) Join(room string, info ParticipantInfo, leg Leg) (*Participant, error) {
	return b.joinWith(room, info, leg, nil)
}

// joinWith admits a participant to room, making the room if needed; src is its mixer source,
// or nil for its own jitter buffer.
func (b *Bridge) joinWith(room string, info ParticipantInfo, leg Leg, src mixer.Source) (*Participant, error) {
	s, err := b.admit(room, false)
	if err != nil && !info.excused(err) {
		return nil, err
	}
	release, err := b.takeSeat(room, info, s.Limit)
	if err != nil {
		return nil, err
	}
	p, err := b.joinLocked(room, info, leg, src)
	release(err == nil)
	return p, err
}

// joinLocked is joinWith once the participant is admitted.
func (b *Bridge) joinLocked(room string, info ParticipantInfo, leg Leg, src mixer.Source) (*Participant, error) {
	// b.mu is held until the participant is in: an emptied room's goroutine forgets it under
	// b.mu (removeIfIdle), so it cannot forget the room this participant is joining. The room's
	// goroutine takes b.mu only after it has stopped owning the room, so the join never waits
	// for a goroutine that waits for b.mu.
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rooms[room]
	if !ok {
		s, declared := b.declared[room]
		r = newRoom(b, room, s, declared)
		b.rooms[room] = r
	}
	p, err := r.joinWith(info, leg, src)
	if err != nil && r.idle() {
		delete(b.rooms, room) // a refused first participant leaves no empty room behind
	}
	return p, err
}

// Rooms lists the rooms that exist: every room with participants and every declared room.
func (b *Bridge) Rooms() []RoomSummary {
	b.mu.Lock()
	out := make([]RoomSummary, 0, len(b.rooms)+len(b.declared))
	for name, r := range b.rooms {
		out = append(out, RoomSummary{Room: name, Participants: r.count()})
	}
	for name := range b.declared {
		if _, ok := b.rooms[name]; !ok {
			out = append(out, RoomSummary{Room: name})
		}
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(a, c RoomSummary) int { return cmp.Compare(a.Room, c.Room) })
	return out
}

// Room returns the running room called name, or a declared one's state.
func (b *Bridge) Room(name string) (*Room, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rooms[name]
	return r, ok
}

// RoomState returns GET /api/rooms/ROOM, or ErrNoRoom.
func (b *Bridge) RoomState(name string) (RoomState, error) {
	b.mu.Lock()
	r, ok := b.rooms[name]
	s, declared := b.declared[name]
	b.mu.Unlock()
	if ok {
		return r.State(), nil
	}
	if declared {
		return RoomState{Room: name, Declared: true, Settings: s.Effective(), Participants: []ParticipantState{}}, nil
	}
	return RoomState{}, fmt.Errorf("%w: %q", ErrNoRoom, name)
}

// Participants returns every participant of every room.
func (b *Bridge) Participants() []*Participant {
	b.mu.Lock()
	rooms := make([]*Room, 0, len(b.rooms))
	for _, r := range b.rooms {
		rooms = append(rooms, r)
	}
	b.mu.Unlock()
	var out []*Participant
	for _, r := range rooms {
		out = append(out, r.snapshot().parts...)
	}
	return out
}

// HangupAll asks every leg to end its call (drain deadline, shutdown).
func (b *Bridge) HangupAll(reason string) {
	for _, p := range b.Participants() {
		p.Hangup(reason)
	}
}

// Close stops every room's clock and waits for them; participants still present are removed
// without their legs being told (call HangupAll first for that).
func (b *Bridge) Close() {
	for _, p := range b.Participants() {
		p.Leave("shutdown")
	}
	b.wg.Wait()
}

// removeIfIdle forgets an ad-hoc room whose clock stopped with nobody in it.
func (b *Bridge) removeIfIdle(r *Room) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.idle() && b.rooms[r.name] == r {
		delete(b.rooms, r.name)
	}
}

// newParticipantID returns a participant id for the API: a ULID like the event ids, so that
// an id is never given twice, not even after a restart (a receiver that kept "1" from the
// last run would take a new caller for the old one), and its mixer id, which is small.
func (b *Bridge) newParticipantID() (string, mixer.ID) {
	return b.bus.ids.next(), mixer.ID(b.nextMix.Add(1))
}

// now is the bridge's clock for timestamps in events and state.
func now() time.Time { return time.Now() }

var _ = codec.SampleRate
