package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"confd/bridge"
)

// Dialer places cascade calls: sipleg.Server.DialCascade.
type Dialer interface {
	DialCascade(ctx context.Context, room string, owner netip.AddrPort, self string) (string, error)
}

// Manager keeps one cascade leg per room that has people on this node and is owned by another:
// it dials the owner on the room's first person here and hangs up when the last one leaves, or
// when the owner changes (the new owner is dialled).
type Manager struct {
	nodes  *Nodes
	bridge *bridge.Bridge
	dial   Dialer
	log    *slog.Logger

	mu   sync.Mutex
	legs map[string]*cascadeLeg // by room
}

// cascadeLeg is this node's cascade call in one room.
type cascadeLeg struct {
	owner  string // the owner's name
	uri    string // what was dialled: the leg's participant has it as From
	callID string
	since  time.Time
	failed bool // the call failed: dial again after retryWait
}

// answerWait is how long a dialled cascade may take to appear in the room before it is dialled
// again (the owner's answer, the ACK, the join).
const answerWait = 5 * time.Second

// retryWait is how long after a failed cascade call the next is dialled: long enough not to
// hammer an owner that refuses, short enough to follow a re-homing owner at once.
const retryWait = time.Second

// NewManager returns a Manager for the bridge b, dialling with d.
func NewManager(nodes *Nodes, b *bridge.Bridge, d Dialer, log *slog.Logger) *Manager {
	return &Manager{nodes: nodes, bridge: b, dial: d, log: log, legs: map[string]*cascadeLeg{}}
}

// Run reconciles the cascade legs on every join and leave, and every interval (owners change
// when nodes come and go; a cascade that failed is dialled again answerWait after it began),
// until ctx ends.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	watch(ctx, m.bridge, interval, func(e bridge.Event) {
		switch e.Type {
		case bridge.EventJoin, bridge.EventLeave, bridge.EventCascade, bridge.EventRoomFinished:
			m.reconcile(ctx, e.Room)
		case bridge.EventDial:
			if e.Data["state"] == "failed" {
				m.failed(e.Room, e.Data["id"])
			}
		}
	}, func() {
		m.mu.Lock()
		var legs []string
		for r := range m.legs {
			legs = append(legs, r)
		}
		m.mu.Unlock()
		for _, r := range roomsWith(m.bridge, legs) {
			m.reconcile(ctx, r)
		}
	})
}

// watch calls event with every event the bridge publishes and tick every interval, until ctx
// ends: the loop of the cluster's reconcilers (Manager, Seats).
func watch(ctx context.Context, b *bridge.Bridge, interval time.Duration, event func(bridge.Event), tick func()) {
	sub := b.Bus().Subscribe("", 1024, "")
	defer sub.Close()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-sub.C:
			event(e)
		case <-t.C:
			tick()
		}
	}
}

// roomsWith returns the rooms of b that have people, and also the rooms named in also: what a
// reconciler looks at each interval (also: the rooms it acted on before, which may be empty
// now).
func roomsWith(b *bridge.Bridge, also []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(r string) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, r := range b.Rooms() {
		if r.Participants > 0 {
			add(r.Room)
		}
	}
	for _, r := range also {
		add(r)
	}
	return out
}

// failed notes that the room's cascade call id failed: it is dialled again after retryWait,
// not answerWait (the owner may have left the set, or be draining).
func (m *Manager) failed(room string, id any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.legs[room]; l != nil && l.callID == id {
		l.failed = true
	}
}

// reconcile makes the room's cascade leg what it should be.
func (m *Manager) reconcile(ctx context.Context, room string) {
	people, leg := 0, (*bridge.Participant)(nil)
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.legs[room]
	if r, ok := m.bridge.Room(room); ok {
		for _, st := range r.State().Participants {
			if st.Kind != bridge.KindCascade {
				people++
			} else if cur != nil && st.From == cur.uri {
				leg, _ = r.Participant(st.ID)
			}
		}
	}
	owner := m.nodes.Owner(room)
	want := people > 0 && owner.Name != m.nodes.Self()
	if cur != nil && (!want || cur.owner != owner.Name) {
		if leg != nil {
			leg.Hangup("cascade no longer needed")
		}
		m.log.Info("cascade ends", "room", room, "owner", cur.owner, "people", people)
		delete(m.legs, room)
		cur, leg = nil, nil
	}
	if !want {
		return
	}
	wait := answerWait
	if cur != nil && cur.failed {
		wait = retryWait
	}
	if cur != nil && (leg != nil || time.Since(cur.since) < wait) {
		return // up, or on its way
	}
	uri := fmt.Sprintf("sip:%s@%s", room, owner.SIP)
	id, err := m.dial.DialCascade(ctx, room, owner.SIP, m.nodes.Self())
	if err != nil {
		m.log.Warn("cascade dial", "room", room, "owner", owner.Name, "err", err)
		return
	}
	m.log.Info("cascade to owner", "room", room, "owner", owner.Name, "call", id)
	m.legs[room] = &cascadeLeg{owner: owner.Name, uri: uri, callID: id, since: time.Now()}
}
