package bridge

import "fmt"

// RunningRoom returns the room called name while it has participants: the one lookup of a room
// to act on its people (the control API's participant, matrix, mute-all and transfer routes,
// playing into a room). A name docs/SPEC.md does not allow is ErrBadRoomName (HTTP 400) and a
// room nobody is in, declared or not, is ErrNoRoom (HTTP 404), so that every route answers the
// same cause alike (StatusOf).
func (b *Bridge) RunningRoom(name string) (*Room, error) {
	if err := CheckRoomName(name); err != nil {
		return nil, err
	}
	r, ok := b.Room(name)
	if !ok {
		return nil, fmt.Errorf("%w: %q has no participants", ErrNoRoom, name)
	}
	return r, nil
}
