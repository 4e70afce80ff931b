package rtpfwd

import (
	"confd/internal/guard"

	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"confd/bridge"
	"confd/codec"
)

// opusPT is the payload type of Opus when the request names none (dynamic, RFC 3551 section 3;
// 111 is what browsers and most recorders expect).
const opusPT = 111

// DefaultPerRoom is how many forwarders a room may have when Config.PerRoom is 0.
const DefaultPerRoom = 4

// Config sets up a Manager; the zero value has forwarders disabled.
type Config struct {
	// Allow are the allowed destinations ([forwarders] allow); empty disables forwarders.
	Allow []guard.Destination
	// PerRoom is how many forwarders one room may have; 0 means DefaultPerRoom.
	PerRoom int
	// Logger logs starts and stops; nil means slog.Default().
	Logger *slog.Logger
}

// Manager keeps the rooms' forwarders: it starts them for the API, lists and stops them, and
// stops those whose room has emptied or whose participant has left. It is safe for concurrent
// use.
type Manager struct {
	b   *bridge.Bridge
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	rooms  map[string]map[string]*forwarder // room → id → forwarder
	closed bool

	sub  *bridge.Subscription
	quit chan struct{}
	done chan struct{}
}

// NewManager returns a Manager for b's rooms with cfg, watching the bridge's events for rooms
// that empty and participants that leave.
func NewManager(b *bridge.Bridge, cfg Config) *Manager {
	if cfg.PerRoom <= 0 {
		cfg.PerRoom = DefaultPerRoom
	}
	m := &Manager{b: b, cfg: cfg, log: cfg.Logger, rooms: map[string]map[string]*forwarder{},
		quit: make(chan struct{}), done: make(chan struct{})}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.sub = b.Bus().Subscribe("", 256, "")
	go m.watch()
	return m
}

// Enabled reports whether any destination is allowed.
func (m *Manager) Enabled() bool { return len(m.cfg.Allow) > 0 }

// Start starts a forwarder of room as req asks and publishes forwarder_started. It returns
// ErrDisabled, ErrDestination, ErrBadRequest, bridge.ErrNoRoom (nobody in the room),
// bridge.ErrNoParticipant (req.Participant is not in it) or bridge.ErrForwarderLimit.
func (m *Manager) Start(room string, req Request) (Info, error) {
	if !m.Enabled() {
		return Info{}, ErrDisabled
	}
	if err := bridge.CheckRoomName(room); err != nil {
		return Info{}, err
	}
	f, out, err := m.prepare(room, req)
	if err != nil {
		return Info{}, err
	}
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return Info{}, bridge.ErrDraining
	case len(m.rooms[room]) >= m.cfg.PerRoom:
		m.mu.Unlock()
		return Info{}, fmt.Errorf("%w: room %q has %d forwarders ([forwarders] per_room)", bridge.ErrForwarderLimit, room, m.cfg.PerRoom)
	}
	if m.rooms[room] == nil {
		m.rooms[room] = map[string]*forwarder{}
	}
	m.rooms[room][f.info.ID] = f // holds the place while joining
	m.mu.Unlock()

	if err := f.dial(); err != nil {
		m.forget(f)
		return Info{}, fmt.Errorf("rtpfwd: socket to %s: %w", f.dest, err)
	}
	part, err := m.b.JoinForwarder(room, req.Participant, out, f.info.PayloadType, f)
	if err != nil {
		f.conn.Close()
		m.forget(f)
		return Info{}, err
	}
	m.mu.Lock()
	f.part, f.info.SSRC = part, part.SSRC()
	info, closed := f.snapshot(), m.closed
	m.mu.Unlock()
	if closed { // Close ran while it joined, and could not see it
		m.stop(f, "shutdown")
		return Info{}, bridge.ErrDraining
	}
	m.b.Bus().Publish(bridge.Event{Type: bridge.EventForwarderStarted, Room: room, Data: f.eventData()})
	m.log.Info("forwarder started", "room", room, "id", f.info.ID, "dest", f.dest, "codec", f.info.Codec, "participant", f.info.Participant)
	return info, nil
}

// prepare checks req and returns the forwarder it describes, not yet started, and its output
// encoding.
func (m *Manager) prepare(room string, req Request) (*forwarder, codec.Format, error) {
	addr, err := netip.ParseAddr(req.Host)
	if err != nil || addr.Zone() != "" {
		return nil, codec.Format{}, fmt.Errorf("%w: host %q must be an IP address", ErrBadRequest, req.Host)
	}
	if req.Port < 1 || req.Port > 65535 {
		return nil, codec.Format{}, fmt.Errorf("%w: port %d outside 1-65535", ErrBadRequest, req.Port)
	}
	dest := netip.AddrPortFrom(addr.Unmap(), uint16(req.Port))
	// The unspecified address is no destination: Linux delivers a packet sent to 0.0.0.0 or ::
	// to the host itself, so a wide prefix ("0.0.0.0/0:6000") would let the API aim a stream at
	// confd's own host (red team, issue 13).
	if dest.Addr().IsUnspecified() || !m.allowed(dest) {
		return nil, codec.Format{}, fmt.Errorf("%w: %s", ErrDestination, dest)
	}
	c, ok := codec.ByName(req.Codec)
	if !ok {
		return nil, codec.Format{}, fmt.Errorf("%w: codec %q (want PCMU, PCMA, G722 or opus)", ErrBadRequest, req.Codec)
	}
	pt, static := c.StaticPayloadType()
	if !static {
		pt = opusPT
	}
	if req.PayloadType != nil {
		if *req.PayloadType < 0 || *req.PayloadType > 127 || (*req.PayloadType >= 72 && *req.PayloadType <= 76) {
			return nil, codec.Format{}, fmt.Errorf("%w: payload_type %d (want 0-127, not 72-76, which RTCP takes: RFC 5761 section 4)", ErrBadRequest, *req.PayloadType)
		}
		pt = uint8(*req.PayloadType)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	f := &forwarder{m: m, dest: dest, info: Info{
		ID: hex.EncodeToString(id[:]), Room: room, Host: dest.Addr().String(), Port: req.Port,
		Codec: c.String(), PayloadType: pt, Participant: req.Participant, StartedAt: time.Now(),
	}}
	return f, codec.Format{Codec: c}, nil
}

// allowed reports whether dest is within one of the allowed destinations.
func (m *Manager) allowed(dest netip.AddrPort) bool {
	for _, d := range m.cfg.Allow {
		if d.Contains(dest) {
			return true
		}
	}
	return false
}

// List returns room's forwarders, oldest first; bridge.ErrNoRoom when the room does not exist.
func (m *Manager) List(room string) ([]Info, error) {
	if _, err := m.b.RoomState(room); err != nil {
		return nil, err
	}
	m.mu.Lock()
	out := make([]Info, 0, len(m.rooms[room]))
	for _, f := range m.rooms[room] {
		if f.part != nil {
			out = append(out, f.snapshot())
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Info) int { return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// Stop stops room's forwarder id (bridge.ErrNoForwarder when there is none) and returns what
// it sent.
func (m *Manager) Stop(room, id string) (Info, error) {
	m.mu.Lock()
	f, ok := m.rooms[room][id]
	ok = ok && f.part != nil
	m.mu.Unlock()
	if !ok {
		return Info{}, fmt.Errorf("%w: %q in room %q", bridge.ErrNoForwarder, id, room)
	}
	m.stop(f, "stopped")
	return f.snapshot(), nil
}

// stop ends f once: forwarder_stopped is published, its participant leaves the room (after
// which the room's tick no longer calls SendRTP) and its socket is closed.
func (m *Manager) stop(f *forwarder, reason string) {
	m.mu.Lock()
	part := f.part
	m.mu.Unlock()
	if part == nil {
		return // still joining: Start cleans up, or the next sweep stops it
	}
	f.stopOnce.Do(func() {
		// The event goes first, so that a room that ends with its forwarder's leaving reports
		// forwarder_stopped before room_finished; its counts may miss the last packet.
		data := f.eventData()
		data["reason"], data["packets"], data["dropped"] = reason, f.packets.Load(), f.dropped.Load()
		m.b.Bus().Publish(bridge.Event{Type: bridge.EventForwarderStopped, Room: f.info.Room, Data: data})
		part.Leave("forwarder " + reason)
		f.conn.Close()
		m.forget(f)
		m.log.Info("forwarder stopped", "room", f.info.Room, "id", f.info.ID, "reason", reason,
			"packets", f.packets.Load(), "dropped", f.dropped.Load())
	})
}

// forget drops f from the rooms' lists.
func (m *Manager) forget(f *forwarder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if fs := m.rooms[f.info.Room]; fs[f.info.ID] == f {
		delete(fs, f.info.ID)
		if len(fs) == 0 {
			delete(m.rooms, f.info.Room)
		}
	}
}

// eventData is the data of f's events.
func (f *forwarder) eventData() map[string]any {
	d := map[string]any{"forwarder": f.info.ID, "host": f.info.Host, "port": f.info.Port, "codec": f.info.Codec}
	if f.info.Participant != "" {
		d["participant"] = f.info.Participant
	}
	return d
}

// watch stops the forwarders of a room that has nobody left in it, and those of a participant
// that left, when the events say someone left; a check every second covers an event lost to a
// full queue and a leave during a forwarder's start.
func (m *Manager) watch() {
	defer close(m.done)
	check := time.NewTicker(time.Second)
	defer check.Stop()
	for {
		select {
		case e, ok := <-m.sub.C:
			if !ok {
				return
			}
			if e.Type == bridge.EventLeave || e.Type == bridge.EventRoomFinished {
				m.sweep(e.Room)
			}
		case <-check.C:
			m.mu.Lock()
			rooms := make([]string, 0, len(m.rooms))
			for r := range m.rooms {
				rooms = append(rooms, r)
			}
			m.mu.Unlock()
			for _, r := range rooms {
				m.sweep(r)
			}
		case <-m.quit:
			return
		}
	}
}

// sweep stops room's forwarders when nobody is left in it, and those whose participant is no
// longer in it.
func (m *Manager) sweep(room string) {
	m.mu.Lock()
	fs := make([]*forwarder, 0, len(m.rooms[room]))
	for _, f := range m.rooms[room] {
		if f.part != nil {
			fs = append(fs, f)
		}
	}
	m.mu.Unlock()
	if len(fs) == 0 {
		return
	}
	st, err := m.b.RoomState(room)
	present := map[string]bool{}
	for _, p := range st.Participants {
		present[p.ID] = true
	}
	for _, f := range fs {
		switch {
		case err != nil || len(st.Participants) == 0:
			m.stop(f, "room ended")
		case f.info.Participant != "" && !present[f.info.Participant]:
			m.stop(f, "participant left")
		}
	}
}

// Close stops every forwarder and the watcher; Start fails afterwards.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	var fs []*forwarder
	for _, room := range m.rooms {
		for _, f := range room {
			if f.part != nil {
				fs = append(fs, f)
			}
		}
	}
	m.mu.Unlock()
	for _, f := range fs {
		m.stop(f, "shutdown")
	}
	close(m.quit)
	<-m.done
	m.sub.Close()
}
