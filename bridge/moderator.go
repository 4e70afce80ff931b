package bridge

import (
	"sync"
	"time"

	"confd/prompts"
)

// Moderated rooms (docs/SPEC.md "Moderators and hold music"), after Asterisk ConfBridge's
// marked users and FreeSWITCH's wait-mod/endconf:
//
//   - A participant is a moderator when it joined with its room's moderator PIN, from a trusted
//     dial-in (ParticipantInfo.Moderator), or was made one by PATCH {"moderator": true}; a
//     move with the moderator PIN makes one too.
//   - wait_for_moderator: until a moderator is in, everyone else waits: they are not mixed
//     (no one hears them) and they hear the room's hold music, or silence without one. The
//     tick after a moderator arrives, everyone is mixed; when the last moderator goes (leaves,
//     is moved away or demoted), they wait again.
//   - end_with_moderator: when the last moderator leaves the call (hangs up, is kicked), the
//     others hear the "conference ended" prompt and are then hung up. A moderator moved to
//     another room or demoted does not end the room: a visit to a breakout room must not end
//     the meeting.
//   - Hold music: a room whose hold_music is set plays it, looped, to a participant alone in
//     it, and stops it the tick a second one arrives.
//   - announce_only_participant: a participant who joins (or is moved into) a room where it is
//     alone first hears "You are currently the only participant", then the hold music.

// endGrace is how long after the "conference ended" prompt the remaining calls are hung up, so
// that its last word reaches the phones through their jitter buffers.
const endGrace = 500 * time.Millisecond

// reconcile applies the room's moderator and hold-music rules after a batch of changes, as
// the room's owner: who waits, and what the program plays. It allocates only when something
// changes.
func (r *Room) reconcile() {
	// The room's people and moderators on every node (census.go); the rules apply to this
	// node's people.
	people, moderators := r.roomCensus()
	here := peopleIn(r.parts)
	if people == 0 {
		r.ending = false // a declared room starts afresh
	}
	wait := r.settings.WaitForModerator && moderators == 0 && !r.ending
	for _, p := range r.parts {
		// A cascade leg never waits: it carries another node's people, whose node applies
		// the rule to them itself.
		if w := wait && p.person() && !p.info.WhileDraining; w != p.waiting {
			p.waiting = w
			p.refresh(r)
		}
	}
	var intro *HoldMusic
	if r.joined && people == 1 && r.settings.AnnounceOnlyParticipant {
		intro = onlyPrompt()
	}
	r.joined = false
	switch {
	case r.ending:
		// the end prompt plays on
	case here > 0 && (people == 1 || wait):
		r.play(intro, r.program.music)
	default:
		r.stopProgram()
	}
	r.keepProgramOffCascades()
	r.sendCensus(people, moderators)
}

// moderatorLeft ends the room, as its owner, when p, which has just left, was its last
// moderator, the room ends with its moderator, and someone is left to be told, on any node. A
// cascade leg that went with the last moderators behind it ends the room only when they are
// not back within rehomeGrace: its node may have died with them, or the room re-homed (a
// node coming back or draining moves it: the other node hangs up the leg to the old owner
// and dials the new one, as does this node, whose cascade to the new owner then reports them).
func (r *Room) moderatorLeft(p *Participant) {
	if !(p.moderator || p.behind.Moderators > 0) || !r.settings.EndWithModerator || r.ending {
		return
	}
	if p.moderator {
		r.endWithoutModerator()
		return
	}
	time.AfterFunc(rehomeGrace, func() { r.post(r.endWithoutModerator) })
}

// rehomeGrace is how long a room waits for the moderators behind a cascade leg that went to
// come back through another (a re-homing: a node sees another come or go within a health
// interval or two, then dials) before it ends with its moderator.
const rehomeGrace = 3 * time.Second

// endWithoutModerator ends the room, as its owner, when it ends with its moderator, none is
// left on any node and someone is left to be told.
func (r *Room) endWithoutModerator() {
	if !r.settings.EndWithModerator || r.ending {
		return
	}
	if people, moderators := r.roomCensus(); moderators > 0 || people == 0 {
		return
	}
	r.end("the moderator left")
}

// end ends the room, as its owner: this node's people hear the "conference ended" prompt, then
// their calls are hung up; the census tells the other nodes, which do the same for theirs.
func (r *Room) end(why string) {
	r.ending = true
	var wait time.Duration
	if m := endPrompt(); m != nil {
		r.play(m, nil)
		wait = m.Duration()
	}
	ending := make([]*Participant, 0, len(r.parts))
	for _, q := range r.parts {
		if q.person() {
			ending = append(ending, q)
		}
	}
	r.b.log.Info("room ends", "room", r.name, "why", why, "hung_up", len(ending))
	// Those here now are hung up once the prompt has played (the timer's goroutine only calls
	// their legs); the room empties as their legs leave. Cascade legs stay until their node's
	// own people are gone.
	time.AfterFunc(wait+endGrace, func() {
		for _, q := range ending {
			q.Hangup("conference ended: " + why)
		}
	})
}

// promptMusic returns a function that makes the named prompt playable, once.
func promptMusic(name string) func() *HoldMusic {
	return sync.OnceValue(func() *HoldMusic {
		pcm, err := prompts.Get(name)
		if err != nil {
			return nil
		}
		return newHoldMusic("prompt:"+name, pcm)
	})
}

// The prompts a room plays itself: when its last moderator has left, and to a participant who
// joins it alone (AnnounceOnlyParticipant).
var (
	endPrompt  = promptMusic(prompts.ConferenceEnded)
	onlyPrompt = promptMusic(prompts.OnlyParticipant)
)
