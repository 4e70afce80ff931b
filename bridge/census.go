package bridge

// A room cascaded over several nodes (README "Several nodes") is one room to its people, so its
// moderator rules count everyone in it, wherever they called: a person on node A waits for a
// moderator who is on the owner, a lone person hears hold music only when no one is on another
// node either, and a room that ends with its moderator ends on every node. Each end of a cascade
// leg therefore tells the other, whenever it changes, how many people and moderators the room
// has on its side of that leg — everyone it knows of but those behind the leg itself, so no
// count comes back to where it came from — and whether the room is ending there. The legs carry
// it (sipleg: a SIP INFO in the cascade's dialog); the room's owner applies it.
//
// Each node still applies the rules to its own people only: it plays its own hold music and
// prompts, which never go into a cascade leg (the other node plays its own), and hangs up its
// own calls when the room ends.

// Census is what one end of a cascade leg reports of the room on its side of the leg: its
// people (the persons of Participant.person) and moderators there, and whether the room is
// ending there (its last moderator left, end_with_moderator).
type Census struct {
	People     int  `json:"people"`
	Moderators int  `json:"moderators"`
	Ending     bool `json:"ending,omitempty"`
}

// MaxPeople bounds the counts of people another node reports (a cascade leg's census, a seat
// report, cluster/seats.go): the other node is configured and its address or token checked,
// but a count is still input.
const MaxPeople = 1 << 20

// CensusLeg is a cascade leg that carries the census to the other node. The room's owner calls
// SendCensus, after a batch of changes, with what the other end should know whenever it
// differs from what it sent last; it must not block (a leg sends it from a goroutine of its
// own, the latest one winning).
type CensusLeg interface {
	Leg
	SendCensus(Census)
}

// SetCensus applies what the other end of p's cascade leg reported of the room on its side. It
// is ignored for a participant that is not a cascade leg, and counts beyond reason are capped.
// A report that the room is ending there ends it here too: this node's people hear the end
// prompt and are hung up.
func (p *Participant) SetCensus(c Census) {
	if p.info.Cascade == "" {
		return
	}
	c.People = min(max(c.People, 0), MaxPeople)
	c.Moderators = min(max(c.Moderators, 0), c.People)
	p.ownLater(func(r *Room) {
		was := p.behind
		p.behind = c
		p.refresh(r) // its state shows the people behind it
		if c.Ending && !was.Ending && !r.ending {
			r.end("the room ended on node " + p.info.Cascade)
		}
	})
}

// roomCensus counts the room's people and moderators on every node: its own persons and what
// each cascade leg reported behind it.
func (r *Room) roomCensus() (people, moderators int) {
	for _, p := range r.parts {
		switch {
		case p.person():
			people++
			if p.moderator {
				moderators++
			}
		case p.info.Cascade != "":
			people += p.behind.People
			moderators += p.behind.Moderators
		}
	}
	return people, moderators
}

// sendCensus tells each cascade leg's other end what the room holds on this side of it, when
// that changed; as the room's owner, after reconcile has counted.
func (r *Room) sendCensus(people, moderators int) {
	for _, p := range r.parts {
		if p.censusLeg == nil {
			continue
		}
		c := Census{People: people - p.behind.People, Moderators: moderators - p.behind.Moderators, Ending: r.ending}
		if c != p.censusSent {
			p.censusSent = c
			p.censusLeg.SendCensus(c)
		}
	}
}

// keepProgramOffCascades keeps the program (hold music, prompts) out of every cascade leg's mix:
// the other node plays its own to its own people. As the room's owner, after reconcile.
func (r *Room) keepProgramOffCascades() {
	pg := &r.program
	if !pg.on {
		return
	}
	for _, p := range r.parts {
		if p.info.Cascade != "" && p.programOff != pg.gen {
			if err := r.mix.SetGain(p.mid, pg.mid, 0); err == nil {
				p.programOff = pg.gen
			}
		}
	}
}

// keepProgramOffCascadesAgain puts back the gains that keep the program off the cascade legs,
// after the API replaced the room's matrix (and with it every pair). As the room's owner.
func (r *Room) keepProgramOffCascadesAgain() {
	for _, p := range r.parts {
		p.programOff = 0
	}
	r.keepProgramOffCascades()
}
