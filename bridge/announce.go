package bridge

import (
	"time"

	"confd/codec"
	"confd/mixer"
	"confd/prompts"
)

// Announcements of who comes and goes (docs/SPEC.md "Moderators and hold music"), after
// Asterisk ConfBridge's announce_user_count and announce_join_leave:
//
//   - announce_user_count: a person who joins a room (or is moved into it) where other people
//     are hears "There is one other participant" or "There are N other participants" (N spoken
//     up to twenty, then "more than twenty"), to itself only: the prompt is a coach whose
//     target is the newcomer, so no one else hears it. It hears the prompt before the room:
//     the mixer's solo holds it on the prompt alone, and it hears the room from the tick after
//     the prompt's last frame. N counts people, not confd's recorders, players, forwarders or
//     cascade legs (whose people another node counts). Alone, it hears nothing from this
//     setting: announce_only_participant says so.
//   - announce_join_leave: a person with a recorded name (ParticipantInfo.RecordedName: a SIP
//     caller through the IVR said it after a prompt) is announced to the room: its name, then
//     "has joined the conference", heard by everyone but itself; when its call ends, its name
//     and "has left the conference", heard by those left. One without a recorded name (WebRTC,
//     a SIP caller that met no IVR) is announced by nothing; the chimes setting gives a tone
//     for everyone. A move announces no name (its leave and join events say it).
//
// Each announcement is a mixer source of the room, like the hold music (holdmusic.go): it
// plays shared, already decoded PCM a frame per tick, allocating nothing, and is taken out of
// the mix by the room's owner between ticks once it has played.

// maxAnnouncements is how many announcements a room plays at once; more (a crowd joining in
// one second) are dropped with a warning rather than piled up into noise.
const maxAnnouncements = 8

// MaxRecordedName is the longest recorded name kept: what is longer is cut.
const MaxRecordedName = 3 * time.Second

// NewRecordedName makes a recorded name of pcm (mono, codec.SampleRate), cut to
// MaxRecordedName, for ParticipantInfo.RecordedName. It is a copy: pcm may be reused.
func NewRecordedName(pcm []int16) *HoldMusic {
	if len(pcm) == 0 {
		return nil
	}
	return newHoldMusic("recorded name", pcm[:min(len(pcm), int(MaxRecordedName/time.Second)*codec.SampleRate)])
}

// sequence plays up to three pieces of PCM one after the other, once, as a mixer.Source, with
// each frame's level known and the voice flag set (as loop does). It allocates nothing.
type sequence struct {
	parts    [3]*HoldMusic
	part, at int  // the next tick's frame: parts[part]'s frame at
	done     bool // every frame has been played
	playhead
}

// Advance implements mixer.Source.
func (s *sequence) Advance(time.Time) codec.Activity {
	for s.part < len(s.parts) && s.at >= s.parts[s.part].frames() {
		s.part, s.at = s.part+1, 0
	}
	if s.part == len(s.parts) {
		s.done = true
		return s.set(nil, 0)
	}
	s.at++
	return s.set(s.parts[s.part], s.at-1)
}

// announcement is one sequence in a room's mix.
type announcement struct {
	src   sequence
	mid   mixer.ID
	solo  mixer.ID // the listener held on it alone until it has played, or 0
	notTo mixer.ID // the one who must not hear it (the newcomer it names), or 0
	on    bool
}

// announcer is a room's announcements, owned by the room's owner. Its slots are made on the
// first announcement, so that a room without any pays a nil pointer.
type announcer struct {
	slots  *[maxAnnouncements]announcement
	active int
}

// announceArrival announces p, who has just entered the room (moved: from another room), as
// the room's owner.
func (r *Room) announceArrival(p *Participant, moved bool) {
	if !p.person() {
		return
	}
	people, _ := r.roomCensus() // on every node
	others := people - 1
	if others == 0 {
		r.stopAnnouncements() // what was left playing to an emptied room is for no one now
	}
	if r.settings.AnnounceUserCount && others > 0 {
		r.announce(countPrompt(others), p.mid, 0)
	}
	if r.settings.AnnounceJoinLeave && !moved && p.info.RecordedName != nil && others > 0 {
		r.announce([3]*HoldMusic{p.info.RecordedName, joinedPrompt()}, 0, p.mid)
	}
}

// announceDeparture announces p, whose call has ended and who has just been taken out of the
// room, to the people left, as the room's owner.
func (r *Room) announceDeparture(p *Participant) {
	if !r.settings.AnnounceJoinLeave || p.info.RecordedName == nil || !p.person() || r.ending {
		return
	}
	if peopleIn(r.parts) == 0 {
		r.stopAnnouncements()
		return
	}
	r.announce([3]*HoldMusic{p.info.RecordedName, leftPrompt()}, 0, 0)
}

// announce plays parts into the room's mix from the next tick, as its owner: heard by to alone,
// who hears nothing else until it has played, when to is not 0; heard by everyone but notTo
// otherwise.
func (r *Room) announce(parts [3]*HoldMusic, to, notTo mixer.ID) {
	a := &r.announcer
	if a.slots == nil {
		a.slots = new([maxAnnouncements]announcement)
	}
	var s *announcement
	for i := range a.slots {
		if !a.slots[i].on {
			s = &a.slots[i]
			break
		}
	}
	if s == nil {
		r.b.log.Warn("announcement dropped: too many at once", "room", r.name, "playing", maxAnnouncements)
		return
	}
	*s = announcement{src: sequence{parts: parts}, mid: mixer.ID(r.b.nextMix.Add(1))}
	if err := r.mix.Add(s.mid, mixer.ParticipantConfig{Source: &s.src}); err != nil {
		r.b.log.Warn("announcement not played", "room", r.name, "err", err)
		return
	}
	s.on = true
	a.active++
	var err error
	if to != 0 {
		if err = r.mix.SetRole(s.mid, mixer.RoleCoach, to); err == nil {
			err = r.mix.SetSolo(to, s.mid)
			s.solo = to
		}
	}
	if notTo != 0 && err == nil {
		err = r.mix.SetGain(notTo, s.mid, 0)
		s.notTo = notTo
	}
	if err != nil {
		r.b.log.Warn("announcement not played", "room", r.name, "err", err)
		r.endAnnouncement(s)
	}
}

// reapAnnouncements takes the announcements that have played out of the mix, as the room's
// owner before a tick: their listener hears the room from this tick. With none playing it is
// one comparison.
func (r *Room) reapAnnouncements() {
	if r.announcer.active == 0 {
		return
	}
	for i := range r.announcer.slots {
		if s := &r.announcer.slots[i]; s.on && s.src.done {
			r.endAnnouncement(s)
		}
	}
}

// keepAnnouncementsUnheard puts back the pairs that keep a newcomer from hearing its own
// name, after the API replaced the room's matrix (and with it every pair).
func (r *Room) keepAnnouncementsUnheard() {
	if r.announcer.active == 0 {
		return
	}
	for i := range r.announcer.slots {
		if s := &r.announcer.slots[i]; s.on && s.notTo != 0 {
			_ = r.mix.SetGain(s.notTo, s.mid, 0) // fails only when the newcomer has left
		}
	}
}

// stopAnnouncements ends every announcement at once.
func (r *Room) stopAnnouncements() {
	if r.announcer.active == 0 {
		return
	}
	for i := range r.announcer.slots {
		if s := &r.announcer.slots[i]; s.on {
			r.endAnnouncement(s)
		}
	}
}

// endAnnouncement takes s out of the mix and gives its listener the room back.
func (r *Room) endAnnouncement(s *announcement) {
	if s.solo != 0 && r.mix.Solo(s.solo) == s.mid {
		_ = r.mix.SetSolo(s.solo, 0)
	}
	_ = r.mix.Remove(s.mid)
	s.on = false
	r.announcer.active--
}

// The prompts of the announcements, made playable once.
var (
	joinedPrompt = promptMusic(prompts.HasJoined)
	leftPrompt   = promptMusic(prompts.HasLeft)
	oneOther     = promptMusic(prompts.OneOther)
	thereAre     = promptMusic(prompts.ThereAre)
	otherPeople  = promptMusic(prompts.OtherParticipants)
	numbers      [prompts.MaxNumber + 2]func() *HoldMusic // 1…MaxNumber, and above
)

func init() {
	for n := 1; n < len(numbers); n++ {
		numbers[n] = promptMusic(prompts.Number(n))
	}
}

// countPrompt returns what a newcomer hears when n other people are in the room (n ≥ 1).
func countPrompt(n int) [3]*HoldMusic {
	if n == 1 {
		return [3]*HoldMusic{oneOther()}
	}
	return [3]*HoldMusic{thereAre(), numbers[min(n, len(numbers)-1)](), otherPeople()}
}

// PCM returns m's samples (mono, codec.SampleRate, padded with silence to whole frames), shared:
// the caller must not modify them.
func (m *HoldMusic) PCM() []int16 { return m.pcm }
