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
	people, moderators := 0, 0
	for _, p := range r.parts {
		if p.Internal() {
			continue
		}
		people++
		if p.moderator {
			moderators++
		}
	}
	if people == 0 {
		r.ending = false // a declared room starts afresh
	}
	wait := r.settings.WaitForModerator && moderators == 0 && !r.ending
	for _, p := range r.parts {
		// A cascade leg never waits: it carries another node's people, whose node applies
		// the rule to them itself.
		if w := wait && !p.Internal() && !p.info.WhileDraining; w != p.waiting {
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
	case people > 0 && (people == 1 || wait):
		r.play(intro, r.program.music)
	default:
		r.stopProgram()
	}
}

// moderatorLeft ends the room, as its owner, when p was its last moderator, the room ends with
// its moderator, and someone is left to be told: they hear the "conference ended" prompt, then
// their calls are hung up.
func (r *Room) moderatorLeft(p *Participant) {
	if !p.moderator || !r.settings.EndWithModerator || r.ending {
		return
	}
	left := 0
	for _, q := range r.parts {
		if q.moderator {
			return
		}
		if !q.Internal() {
			left++
		}
	}
	if left == 0 {
		return
	}
	r.ending = true
	var wait time.Duration
	if m := endPrompt(); m != nil {
		r.play(m, nil)
		wait = m.Duration()
	}
	r.b.log.Info("room ends with its last moderator", "room", r.name, "moderator", p.id, "left", left)
	// Those here now are hung up once the prompt has played (the timer's goroutine only calls
	// their legs); the room empties as their legs leave.
	ending := make([]*Participant, 0, left)
	for _, q := range r.parts {
		if !q.Internal() {
			ending = append(ending, q)
		}
	}
	time.AfterFunc(wait+endGrace, func() {
		for _, q := range ending {
			q.Hangup("conference ended: the moderator left")
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
