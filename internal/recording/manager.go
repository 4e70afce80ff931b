package recording

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"

	"confd/bridge"
)

// Manager keeps at most one recording per room: it starts and stops them for the API, starts one
// whenever someone joins a room whose settings ask for recording (RoomSettings.Record), and
// finishes them all at shutdown.
type Manager struct {
	b      *bridge.Bridge
	dir    string
	opts   Options
	log    *slog.Logger
	mu     sync.Mutex
	active map[string]*Recording
	closed bool
	sub    *bridge.Subscription
	done   chan struct{}
}

// NewManager returns a Manager writing into dir with opts for every recording, watching the
// bridge's join events for rooms with the Record setting.
func NewManager(b *bridge.Bridge, dir string, opts Options) *Manager {
	m := &Manager{b: b, dir: dir, opts: opts, log: opts.Logger, active: map[string]*Recording{}, done: make(chan struct{})}
	if m.log == nil {
		m.log = slog.Default()
	}
	// confd makes its recording directory 0700; one that was there before keeps the mode its
	// owner gave it, which other local users may be able to list (the names are room names).
	if st, err := os.Stat(dir); err == nil && st.Mode().Perm()&0o077 != 0 {
		m.log.Warn("the recording directory is open to other local users; chmod 700 it", "dir", dir, "mode", st.Mode().Perm().String())
	}
	m.sub = b.Bus().Subscribe("", 256, "")
	go m.watch()
	return m
}

func (m *Manager) watch() {
	defer close(m.done)
	for e := range m.sub.C {
		if e.Type != bridge.EventJoin { // a person's: confd's own participants publish none
			continue
		}
		st, err := m.b.RoomState(e.Room)
		if err != nil || !st.Settings.Record {
			continue
		}
		if _, err := m.Start(e.Room); err != nil && !errors.Is(err, ErrRecording) {
			m.log.Warn("recording: cannot record room", "room", e.Room, "err", err)
		}
	}
}

// Start starts recording room, or returns ErrRecording if it is already being recorded.
func (m *Manager) Start(room string) (*Recording, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, bridge.ErrDraining
	}
	if r, ok := m.active[room]; ok {
		select {
		case <-r.Done():
		default:
			return r, fmt.Errorf("%w: %q", ErrRecording, room)
		}
	}
	r, err := Start(m.b, room, m.dir, m.opts)
	if err != nil {
		return nil, err
	}
	m.active[room] = r
	return r, nil
}

// Stop stops the running recording of room and returns it with the error of finishing it, or
// ErrNotRecording when none is running (as Recording says: one that ended with its room is
// not).
func (m *Manager) Stop(room string) (*Recording, error) {
	m.mu.Lock()
	r, ok := m.active[room]
	delete(m.active, room)
	m.mu.Unlock()
	if ok {
		select {
		case <-r.Done():
			ok = false
		default:
		}
	}
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotRecording, room)
	}
	return r, r.Stop()
}

// Recording returns the running recording of room.
func (m *Manager) Recording(room string) (*Recording, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.active[room]
	if ok {
		select {
		case <-r.Done():
			delete(m.active, room)
			return nil, false
		default:
		}
	}
	return r, ok
}

// Close stops every recording, finishing its files, and starts no more (docs/SPEC.md "Start": at
// shutdown every recording is finished). It returns the recordings' errors.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	recs := slices.Collect(maps.Values(m.active))
	m.active = map[string]*Recording{}
	m.mu.Unlock()
	m.sub.Close()
	<-m.done
	errs := make([]error, len(recs))
	var wg sync.WaitGroup
	for i, r := range recs {
		wg.Go(func() { errs[i] = r.Stop() })
	}
	wg.Wait()
	return errors.Join(errs...)
}
