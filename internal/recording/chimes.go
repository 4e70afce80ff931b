package recording

import (
	"log/slog"

	"confd/bridge"
)

// Chimes plays EntryTone into a room when someone joins it and ExitTone when someone leaves
// (while others remain), in the rooms for which enabled says so: the room setting for entry and
// exit tones. Recorders and players do not chime.
type Chimes struct {
	b       *bridge.Bridge
	enabled func(room string) bool
	log     *slog.Logger
	sub     *bridge.Subscription
	done    chan struct{}
}

// NewChimes starts watching the bridge's join and leave events; it returns ErrNoSourceJoin when
// the bridge cannot join a player. log may be nil (slog.Default()).
func NewChimes(b *bridge.Bridge, enabled func(room string) bool, log *slog.Logger) (*Chimes, error) {
	if _, ok := any(b).(SourceJoiner); !ok {
		return nil, ErrNoSourceJoin
	}
	if log == nil {
		log = slog.Default()
	}
	c := &Chimes{b: b, enabled: enabled, log: log, sub: b.Bus().Subscribe("", 256, ""), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *Chimes) run() {
	defer close(c.done)
	// The people whose join the chimes saw: joins and leaves are people's only (confd's own
	// participants publish none), and one who joined before the chimes started gets no exit tone.
	joined := map[string]bool{}
	for e := range c.sub.C {
		var tone func() *Player
		switch e.Type {
		case bridge.EventJoin:
			joined[e.Participant] = true
			tone = EntryTone
		case bridge.EventLeave:
			known := joined[e.Participant]
			delete(joined, e.Participant)
			if !known {
				continue
			}
			if others, _ := whoIsIn(c.b, e.Room); !others {
				continue
			}
			tone = ExitTone
		default:
			continue
		}
		if !c.enabled(e.Room) {
			continue
		}
		if _, err := Play(c.b, e.Room, tone()); err != nil {
			c.log.Warn("chime not played", "room", e.Room, "err", err)
		}
	}
}

// Close stops the chimes; players already joined play out.
func (c *Chimes) Close() {
	c.sub.Close()
	<-c.done
}
