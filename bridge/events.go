package bridge

import (
	"sync"
	"sync/atomic"
	"time"
)

// EventType names what happened, as the SSE stream and the webhooks spell it (docs/SPEC.md "Control API").
type EventType string

// The event types of docs/SPEC.md.
const (
	// EventJoin and EventLeave are a person's (kind sip or webrtc): confd's own participants
	// (InternalKind) publish none, a cascade leg publishes EventCascade. A join carries name,
	// from, kind, codec, role and moderator (cascade.go arrivalEvent), a leave its reason.
	EventJoin    EventType = "join"
	EventLeave   EventType = "leave"
	EventTalking EventType = "talking"
	EventDTMF    EventType = "dtmf"
	// EventMute carries muted or deaf, and by: who made the change ("api", "self" for *6,
	// "mute-all").
	EventMute EventType = "mute"
	// EventRole says a participant's whole role after any change to it: role, moderator, and
	// a coach's target (eventdata.go roleEvent).
	EventRole      EventType = "role"
	EventDial      EventType = "dial"
	EventRecording EventType = "recording"
	// EventRoomStarted is published when a room without participants gets its first one,
	// before that participant's "join".
	EventRoomStarted EventType = "room_started"
	// EventRoomFinished is published when the last participant has left a room, after its
	// "leave".
	EventRoomFinished EventType = "room_finished"
	// EventCascade is published when a cascade leg between nodes joins or leaves a room
	// (data: node, state "joined" with name, kind and codec, or "left" with reason), in place of
	// the join and leave of a person.
	EventCascade EventType = "cascade"
)

// EventTypes lists every event type the bridge and its legs publish, for checking filters.
var EventTypes = []EventType{EventJoin, EventLeave, EventTalking, EventDTMF, EventMute, EventRole,
	EventDial, EventRecording, EventRoomStarted, EventRoomFinished,
	EventForwarderStarted, EventForwarderStopped, EventTransfer, EventCascade}

// Event is one thing that happened in a room, for the API's event streams, webhooks and metrics.
type Event struct {
	// ID is a ULID (see idSource): unique across restarts and nodes, and, from one confd,
	// increasing as a string in the order of publication, also across its restarts. Receivers
	// deduplicate retried webhook deliveries with it, and an SSE client resumes after it
	// (Last-Event-ID).
	ID string `json:"id"`
	// Type says what happened.
	Type EventType `json:"type"`
	// Time is when the Bus received the event.
	Time time.Time `json:"time"`
	// Room is the room's name.
	Room string `json:"room"`
	// Participant is the participant's id, when the event concerns one.
	Participant string `json:"participant,omitempty"`
	// Data holds the type's details (for example "talking": true, "digit": "5", "status": 180).
	Data map[string]any `json:"data,omitempty"`
}

// historySize is how many recent events a Bus keeps for subscribers that resume.
const historySize = 1024

// Bus fans events out to subscribers without ever blocking the publisher: a subscriber whose
// queue is full loses the event (and the loss is counted), so a stuck SSE client or webhook
// endpoint cannot delay a room's tick.
type Bus struct {
	mu      sync.RWMutex
	subs    map[*Subscription]struct{}
	ids     *idSource
	histMu  sync.Mutex
	seq     int // events published, for the history ring
	history [historySize]Event
	histLen int
	now     func() time.Time
}

// NewBus returns an empty Bus.
func NewBus() *Bus {
	b := &Bus{subs: make(map[*Subscription]struct{}), now: time.Now}
	b.ids = newIDSource(func() time.Time { return b.now() })
	return b
}

// Subscription receives the events of one room, or of every room.
type Subscription struct {
	// C delivers the events in publication order.
	C       <-chan Event
	c       chan Event
	room    string
	bus     *Bus
	dropped atomic.Uint64
	once    sync.Once
}

// Dropped returns how many events this subscriber lost because its queue was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription and closes C. It is safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		s.bus.mu.Unlock()
		close(s.c)
	})
}

// Subscribe returns a subscription to room's events ("" for every room) with a queue of size
// events. Events after afterID that the Bus still remembers are queued first, so a client that
// reconnects with Last-Event-ID misses nothing that fits in the history; an afterID that is
// not an id (ValidID: "", or a number from confd before ULIDs) replays none. An id from before
// a restart replays the whole history of this run, every event of which is later.
func (b *Bus) Subscribe(room string, size int, afterID string) *Subscription {
	if size < 1 {
		size = 1
	}
	c := make(chan Event, size)
	s := &Subscription{C: c, c: c, room: room, bus: b}
	b.mu.Lock()
	if ValidID(afterID) {
		b.histMu.Lock()
		for i := 0; i < b.histLen; i++ {
			e := b.history[(b.seq-b.histLen+i)%historySize]
			if e.ID > afterID && (room == "" || e.Room == room) {
				select {
				case c <- e:
				default:
					s.dropped.Add(1)
				}
			}
		}
		b.histMu.Unlock()
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Publish stamps e with the next ID and the time, and offers it to every matching subscriber
// without blocking. It returns the stamped event.
func (b *Bus) Publish(e Event) Event {
	b.mu.RLock()
	defer b.mu.RUnlock()
	b.histMu.Lock()
	e.ID = b.ids.next()
	e.Time = b.now()
	b.history[b.seq%historySize] = e
	b.seq++
	if b.histLen < historySize {
		b.histLen++
	}
	b.histMu.Unlock()
	for s := range b.subs {
		if s.room != "" && s.room != e.Room {
			continue
		}
		select {
		case s.c <- e:
		default:
			s.dropped.Add(1)
		}
	}
	return e
}
