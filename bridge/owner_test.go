package bridge

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/jitter"
	"confd/mixer"
)

// dtmfEnd returns the end packet of an RFC 4733 event (section 2.3: event, E bit, duration).
func dtmfEnd(seq uint16, ts uint32, event byte) []byte {
	payload := make([]byte, 4)
	payload[0], payload[1] = event, 0x80|10
	binary.BigEndian.PutUint16(payload[2:], 800)
	pkt, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq, Timestamp: ts, SSRC: 99, Marker: true},
		Payload: payload}).Marshal()
	return pkt
}

// TestReInviteDuringStarSixDoesNotDeadlock: a re-INVITE changes a participant's media while its
// leg's reader pushes the 6 of a *6. Before the room had one owner, SetMedia took the room's
// lock and then the participant's pktMu, while PushRTP held pktMu and then *6 took the room's
// lock: the two waited for each other for ever. The interleaving is forced: the new format's
// encoder is made (inside SetMedia's change of the room) only once the 6 is being pushed.
func TestReInviteDuringStarSixDoesNotDeadlock(t *testing.T) {
	var armed atomic.Bool
	sixPushed := make(chan struct{})
	cfg := Config{Mixer: mixer.Config{NewEncoder: func(f codec.Format) (codec.Encoder, error) {
		if f.Codec == codec.PCMA && armed.CompareAndSwap(true, false) {
			select { // the 6 is inside PushRTP now (or, with one owner, queued and done)
			case <-sixPushed:
			case <-time.After(10 * time.Second):
			}
		}
		return codec.NewEncoder(f)
	}}}
	b := New(cfg)
	input := []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}, {Type: 101, Kind: jitter.TelephoneEvent}}
	p := mustJoin(t, b, "deadlock", ParticipantInfo{Name: "A", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}, Input: input}, &fakeLeg{})
	events := b.Bus().Subscribe("deadlock", 16, "")
	defer events.Close()
	mutes := b.Bus().Subscribe("deadlock", 16, "")
	defer mutes.Close()
	if err := p.PushRTP(dtmfEnd(1, 1600, 10), time.Now()); err != nil { // '*'
		t.Fatal(err)
	}
	armed.Store(true)
	reinvited := make(chan error, 1)
	go func() {
		reinvited <- p.SetMedia(codec.Format{Codec: codec.PCMA}, 8, []jitter.PayloadType{{Type: 8, Codec: codec.PCMA}, {Type: 101, Kind: jitter.TelephoneEvent}})
	}()
	pushed := make(chan error, 1)
	go func() {
		for armed.Load() { // SetMedia is making the PCMA encoder, for the room
			time.Sleep(time.Millisecond)
		}
		pushed <- p.PushRTP(dtmfEnd(2, 3200, 6), time.Now()) // '6'
	}()
	go func() { // the 6's dtmf event is published from inside PushRTP, before the mute
		for e := range events.C {
			if e.Type == EventDTMF && e.Data["digit"] == "6" {
				close(sixPushed)
				return
			}
		}
	}()
	for range 2 {
		select {
		case err := <-reinvited:
			if err != nil {
				t.Errorf("SetMedia: %v", err)
			}
		case err := <-pushed:
			if err != nil {
				t.Errorf("PushRTP: %v", err)
			}
		case <-time.After(time.Minute): // a deadlock, not a slow run: this takes milliseconds
			t.Fatal("SetMedia and the PushRTP of a *6 are still waiting after a minute: deadlocked")
		}
	}
	st, err := b.RoomState("deadlock")
	if err != nil || len(st.Participants) != 1 || st.Participants[0].Codec != "PCMA" {
		t.Errorf("after the re-INVITE the room shows %+v (%v), want the participant on PCMA", st.Participants, err)
	}
	for muted := false; !muted; { // *6 is applied between ticks, and says so
		select {
		case e := <-mutes.C:
			muted = e.Type == EventMute && e.Data["by"] == "self" && e.Data["muted"] == true
		case <-time.After(time.Minute):
			t.Fatal("*6 never muted the participant")
		}
	}
	if st, _ := b.RoomState("deadlock"); !st.Participants[0].Muted {
		t.Errorf("after the mute event the room shows %+v", st.Participants)
	}
	p.Leave("done")
	b.Close()
}

// TestChangeIsReadableWhenDoReturns: a change made through the room's owner is in the snapshot
// readers see by the time the call that made it returns. Bridge.Close leaves every participant
// the snapshots list; when the owner let a Join return before it published, a participant that
// had just joined could be missing there, and its room never stopped (the API tests hung in
// Close, once in some tens of runs on a loaded machine). The interleaving is forced: the join is
// applied in one batch with a change that holds the owner until the join has returned or a
// moment has passed.
func TestChangeIsReadableWhenDoReturns(t *testing.T) {
	b := New(Config{})
	first := mustJoin(t, b, "r", ParticipantInfo{Name: "ann", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, &fakeLeg{})
	r := first.room.Load()
	hold, held := make(chan struct{}), make(chan struct{})
	r.post(func() { close(held); <-hold }) // the owner is busy: what follows is one batch
	<-held
	joined := make(chan *Participant, 1)
	go func() {
		p, err := b.Join("r", ParticipantInfo{Name: "bob", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, &fakeLeg{})
		if err != nil {
			t.Error(err)
		}
		joined <- p
	}()
	for queued := 0; queued == 0; {
		time.Sleep(time.Millisecond)
		r.qmu.Lock()
		queued = len(r.queue)
		r.qmu.Unlock()
	}
	var bob *Participant
	r.post(func() { // after the join in the same batch
		select {
		case bob = <-joined: // returned before the batch was published
		case <-time.After(200 * time.Millisecond):
		}
	})
	close(hold)
	if bob == nil {
		bob = <-joined
	}
	listed := false
	for _, p := range b.Participants() {
		listed = listed || p == bob
	}
	bob.Leave("test") // Close would not find it if the snapshot missed it
	b.Close()
	if !listed {
		t.Fatalf("Join returned, but the room's snapshot did not list the one who joined")
	}
}
