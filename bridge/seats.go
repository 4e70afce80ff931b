package bridge

// A room's limit across the nodes of a cluster (README "Several nodes"). People of one room may
// be on several nodes, joined to its owner by cascade legs, which are not people and do not
// count. The owner is the one place that counts: its own people and, for every other node, the
// people that node holds in the room (Seats.Elsewhere). Another node admitting a person to a
// room it does not own asks the owner first (Seats.Full before answering a call, Seats.Take
// when the person joins) and refuses as a full room on its owner does (ErrRoomFull: SIP 486,
// HTTP 409) when the owner says the room is full.

// Seats counts a room's people on the other nodes of a cluster (cluster.Seats). Its methods
// are called with no lock of the bridge held, except Elsewhere, which must not block.
type Seats interface {
	// Elsewhere returns how many people other nodes hold in room when this node owns it, 0
	// otherwise.
	Elsewhere(room string) int
	// Full reports whether room's owner, when it is another node, counts limit people or more
	// in it; false when this node owns it or the owner cannot be asked.
	Full(room string, limit int) bool
	// Take asks room's owner, when it is another node, for a seat for one more person here; it
	// returns ErrRoomFull when the owner says the room is full. release is called once the
	// person is in the room (joined true: from then on the room counts it) or was refused.
	Take(room string, limit int) (release func(joined bool), err error)
}

// SetSeats makes the bridge count a room's limit across the nodes with s. It is called before
// the first join.
func (b *Bridge) SetSeats(s Seats) { b.seats = s }

// elsewhere is Seats.Elsewhere, or 0 on a bridge alone.
func (b *Bridge) elsewhere(room string) int {
	if b.seats == nil {
		return 0
	}
	return b.seats.Elsewhere(room)
}

// takeSeat takes a seat in room, limited to limit, for a participant described by info: only
// a person in a room with a limit needs one. release is never nil.
func (b *Bridge) takeSeat(room string, info ParticipantInfo, limit int) (release func(joined bool), err error) {
	if b.seats == nil || limit <= 0 || InternalKind(info.Kind) || info.Cascade != "" {
		return func(bool) {}, nil
	}
	return b.seats.Take(room, limit)
}

// People returns how many people are in room on this node.
func (b *Bridge) People(room string) int {
	if r, ok := b.Room(room); ok {
		return r.count()
	}
	return 0
}

// WithPeople runs f with the number of people in room on this node and its settings, as the
// room's owner when it runs (under the bridge's lock otherwise), so that f's decision and the
// joins' limit checks happen one after the other. f must not block nor call the bridge.
func (b *Bridge) WithPeople(room string, f func(people int, s RoomSettings)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.rooms[room]
	if !ok {
		f(0, b.declared[room])
		return
	}
	r.do(func() { f(peopleIn(r.parts), r.settings) })
}
