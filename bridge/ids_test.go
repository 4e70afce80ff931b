package bridge

import (
	"slices"
	"testing"
	"time"

	"confd/codec"
)

// TestIDsSurviveARestart is issue 10's restart: a webhook receiver that follows the README
// (skip ids it has seen, and ids at or below the highest seen from this confd) used to drop
// every event after a restart, because ids began at 1 again, and took a new caller for
// participant "1" of the last run. A second Bridge (the restarted confd) must give ids that
// collide with none of the first's, for events and participants, and that sort after them.
func TestIDsSurviveARestart(t *testing.T) {
	clock := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	run := func() (events, parts []string) {
		b := New(Config{})
		b.noClock = true
		b.bus.now = func() time.Time { return clock }
		sub := b.Bus().Subscribe("", 100, "")
		defer sub.Close()
		for _, name := range []string{"ann", "bob"} {
			p := mustJoin(t, b, "r", ParticipantInfo{Name: name, Output: codec.Format{Codec: codec.PCMU}}, &fakeLeg{})
			parts = append(parts, p.ID())
			defer p.Leave("bye")
		}
		b.Bus().Publish(Event{Type: EventDTMF, Room: "r"})
		for len(sub.C) > 0 {
			events = append(events, (<-sub.C).ID)
		}
		return events, parts
	}
	firstEvents, firstParts := run()
	clock = clock.Add(time.Millisecond) // the restart took a millisecond: the least it can
	secondEvents, secondParts := run()

	all := slices.Concat(firstEvents, secondEvents)
	if len(firstEvents) != 4 || !slices.IsSorted(all) {
		t.Errorf("event ids of two runs %v: want 4 per run (room_started, 2 joins, dtmf), in order", all)
	}
	seen := map[string]bool{}
	for _, id := range slices.Concat(all, firstParts, secondParts) {
		if !ValidID(id) || seen[id] {
			t.Errorf("id %q is malformed or given twice", id)
		}
		seen[id] = true
	}
	if len(secondParts) != 2 || slices.Contains(firstParts, secondParts[0]) {
		t.Errorf("participant ids %v then %v", firstParts, secondParts)
	}
}

// TestIDsOrderedWhenTheClockStandsOrStepsBack: many ids in one millisecond, and ids after the
// clock was set back (NTP), still increase; two nodes in the same millisecond still differ.
func TestIDsOrderedWhenTheClockStandsOrStepsBack(t *testing.T) {
	clock := time.UnixMilli(1_800_000_000_000)
	src := newIDSource(func() time.Time { return clock })
	other := newIDSource(func() time.Time { return clock })
	var ids []string
	for i := range 3000 {
		if i == 2000 {
			clock = clock.Add(-time.Hour)
		}
		ids = append(ids, src.next())
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatal("ids from one source do not strictly increase")
	}
	if id := other.next(); slices.Contains(ids, id) {
		t.Errorf("another node made %s in the same millisecond", id)
	}
}

// TestULIDEncoding checks the encoding against the ULID spec's example: the maximum value is
// 7ZZZZZZZZZZZZZZZZZZZZZZZZZ and zero is 26 zeros.
func TestULIDEncoding(t *testing.T) {
	var max [16]byte
	for i := range max {
		max[i] = 0xff
	}
	if got := encodeULID(max); got != "7ZZZZZZZZZZZZZZZZZZZZZZZZZ" {
		t.Errorf("max %s", got)
	}
	if got := encodeULID([16]byte{}); got != "00000000000000000000000000" {
		t.Errorf("zero %s", got)
	}
	// The reference implementation's example: ulid(1469918176385) is 01ARYZ6S41TSV4RRFFQ69G5FAV;
	// 1469918176385 ms is 0x01563DF36481.
	if got := encodeULID([16]byte{0x01, 0x56, 0x3d, 0xf3, 0x64, 0x81})[:10]; got != "01ARYZ6S41" {
		t.Errorf("time part of the reference example: %s, want 01ARYZ6S41", got)
	}
}
