package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/testkit"
)

// nullLeg is a participant's leg that sends nowhere and leaves when hung up.
type nullLeg struct {
	mu sync.Mutex
	p  *bridge.Participant
}

func (l *nullLeg) SendRTP([]byte) {}
func (l *nullLeg) Hangup(reason string) {
	l.mu.Lock()
	p := l.p
	l.mu.Unlock()
	if p != nil {
		go p.Leave(reason)
	}
}

func join(t *testing.T, b *bridge.Bridge, room string, info bridge.ParticipantInfo) *bridge.Participant {
	t.Helper()
	info.Output = codec.Format{Codec: codec.PCMU}
	l := &nullLeg{}
	p, err := b.Join(room, info, l)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.p = p
	l.mu.Unlock()
	return p
}

// fakeDialer joins a cascade participant into the room, as sipleg's DialCascade does once the
// owner answers, and counts the dials.
type fakeDialer struct {
	t     *testing.T
	b     *bridge.Bridge
	mu    sync.Mutex
	dials []string
}

func (d *fakeDialer) DialCascade(_ context.Context, room string, owner netip.AddrPort, self string) (string, error) {
	d.mu.Lock()
	d.dials = append(d.dials, room)
	n := len(d.dials)
	d.mu.Unlock()
	go join(d.t, d.b, room, bridge.ParticipantInfo{Kind: bridge.KindCascade, Name: "cascade to owner", From: fmt.Sprintf("sip:%s@%s", room, owner)})
	return fmt.Sprint("call-", n), nil
}

func (d *fakeDialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.dials)
}

func people(b *bridge.Bridge, room string) (n, cascades int) {
	r, ok := b.Room(room)
	if !ok {
		return 0, 0
	}
	for _, p := range r.State().Participants {
		if p.Kind == bridge.KindCascade {
			cascades++
		} else {
			n++
		}
	}
	return n, cascades
}

// TestManagerKeepsOneCascadePerRoomAndNode: a cascade participant alone (another node's leg,
// here through an ownership disagreement) never makes a cascade; the first person in a room
// owned elsewhere makes one, a second person no other, and the last one leaving hangs it up.
// A room owned here never cascades.
func TestManagerKeepsOneCascadePerRoomAndNode(t *testing.T) {
	nodes := threeNodes("a")
	local, remote := ownedHereAndElsewhere(nodes, "a", "m")
	b := bridge.New(bridge.Config{})
	defer b.Close()
	d := &fakeDialer{t: t, b: b}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go NewManager(nodes, b, d, slog.New(slog.NewTextHandler(io.Discard, nil))).Run(ctx, 50*time.Millisecond)
	time.Sleep(20 * time.Millisecond) // the manager subscribes

	incoming := join(t, b, remote, bridge.ParticipantInfo{Kind: bridge.KindCascade, Name: "cascade c"})
	join(t, b, local, bridge.ParticipantInfo{Kind: "sip", Name: "Local"})
	time.Sleep(200 * time.Millisecond) // four reconciliations
	if n := d.count(); n != 0 {
		t.Fatalf("%d cascades dialled for a cascade participant and a room owned here", n)
	}
	incoming.Leave("test")

	ada := join(t, b, remote, bridge.ParticipantInfo{Kind: "sip", Name: "Ada"})
	testkit.Eventually(t, 5*time.Second, "no cascade for Ada", func() bool { _, c := people(b, remote); return c == 1 })
	bob := join(t, b, remote, bridge.ParticipantInfo{Kind: "sip", Name: "Bob"})
	time.Sleep(200 * time.Millisecond)
	if n := d.count(); n != 1 {
		t.Fatalf("%d cascades dialled for two people, want 1", n)
	}
	ada.Leave("test")
	time.Sleep(100 * time.Millisecond)
	if _, c := people(b, remote); c != 1 {
		t.Fatalf("%d cascade legs with Bob still in the room, want 1", c)
	}
	bob.Leave("test")
	testkit.Eventually(t, 5*time.Second, "the cascade outlived the room's last person", func() bool { _, c := people(b, remote); return c == 0 })
}
