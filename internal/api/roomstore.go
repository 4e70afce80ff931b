package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"confd/bridge"
)

// RoomStoreFile is the name of the state file, in the data directory, that keeps the rooms
// declared with PUT /api/rooms/ROOM.
const RoomStoreFile = "rooms.json"

// RoomStore keeps the rooms declared through the API in a JSON file, so that a restart keeps
// them: {"rooms": {"NAME": {settings}}}. Only the API's declarations are kept: the config file's
// rooms are declared again from it at every start, and a room set with PUT (also one of the
// config file's) keeps the PUT's settings, which win over the file's, until DELETE. The file is
// replaced atomically (written beside it, synced, renamed), so a crash leaves the old or the new
// one, never half of one. A nil *RoomStore keeps nothing.
type RoomStore struct {
	path  string
	mu    sync.Mutex
	rooms map[string]bridge.RoomSettings
}

// roomStoreFile is the file's form.
type roomStoreFile struct {
	Rooms map[string]bridge.RoomSettings `json:"rooms"`
}

// OpenRoomStore reads the state file in dir (creating dir, mode 0750, if needed); a missing
// file is an empty store. A room whose name or settings the bridge refuses
// (bridge.RoomSettings.Validate) is an error, as in the config file: confd does not start.
func OpenRoomStore(dir string) (*RoomStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	s := &RoomStore{path: filepath.Join(dir, RoomStoreFile), rooms: map[string]bridge.RoomSettings{}}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	var f roomStoreFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	for name, st := range f.Rooms {
		if !bridge.ValidRoomName(name) {
			return nil, fmt.Errorf("%s: room name %q", s.path, name)
		}
		if err := st.Validate(); err != nil {
			return nil, fmt.Errorf("%s: room %q: %w", s.path, name, err)
		}
		s.rooms[name] = st
	}
	return s, nil
}

// Rooms returns the kept rooms.
func (s *RoomStore) Rooms() map[string]bridge.RoomSettings {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.rooms)
}

// Put keeps room name with settings st.
func (s *RoomStore) Put(name string, st bridge.RoomSettings) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.rooms[name]
	s.rooms[name] = st
	if err := s.save(); err != nil {
		if had {
			s.rooms[name] = old
		} else {
			delete(s.rooms, name)
		}
		return err
	}
	return nil
}

// Delete forgets room name; a room the store does not hold (one of the config file's) is no
// error.
func (s *RoomStore) Delete(name string) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.rooms[name]
	if !had {
		return nil
	}
	delete(s.rooms, name)
	if err := s.save(); err != nil {
		s.rooms[name] = old
		return err
	}
	return nil
}

// save writes the file atomically; the caller holds mu. The file may hold PINs: mode 0600.
func (s *RoomStore) save() error {
	b, err := json.MarshalIndent(roomStoreFile{Rooms: s.rooms}, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), RoomStoreFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing by that name
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return err
	}
	// The rename is durable once the directory is synced.
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
