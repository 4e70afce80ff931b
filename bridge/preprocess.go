package bridge

import (
	"fmt"
	"sync/atomic"

	"confd/codec"
	"confd/dsp"
)

// preprocessing is a participant's noise suppression and automatic gain (docs/SPEC.md "Noise
// suppression and automatic gain"): its own choices, which override the room's settings, and the
// dsp.Preprocessor that carries them out. The room's owner alone touches denoise, agc and pre;
// denoiseOn and agcOn publish what is in effect for State.
type preprocessing struct {
	denoise, agc     *bool // the participant's own choice; nil follows the room
	pre              *dsp.Preprocessor
	denoiseOn, agcOn atomic.Bool
}

// preprocessConfig is what the room's settings and p's own choices ask of p's preprocessor. The
// room's settings are for people: they do not reach the bridge's own players (prompts, chimes,
// music, which a noise suppressor would mangle and AGC pump) nor a cascade leg from another node
// (ParticipantInfo.Cascade), whose audio is a mix of people already cleaned there; an explicit choice
// does.
func (p *Participant) preprocessConfig(s RoomSettings) dsp.Config {
	person := p.person()
	pick := func(own *bool, room bool) bool {
		if own != nil {
			return *own
		}
		return room && person
	}
	return dsp.Config{
		Denoise:  pick(p.pp.denoise, s.Denoise),
		AGC:      pick(p.pp.agc, s.AGC),
		AGCLevel: codec.Level(s.AGCLevel),
	}
}

// applyPreprocessing makes p's preprocessor what its settings and the room's ask: allocated (and
// handed to the mixer) when something is on, changed in place when it exists, freed when nothing
// is on. The room's owner calls it at join, on a change and when the room's settings change.
func (p *Participant) applyPreprocessing(r *Room) error {
	cfg := p.preprocessConfig(r.settings)
	switch {
	case !cfg.Enabled() || p.left.Load():
		p.closePreprocessor(r)
	case p.pp.pre == nil:
		pre, err := dsp.New(cfg)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadSetting, err)
		}
		if err := r.mix.SetProcessor(p.mid, pre); err != nil {
			pre.Close()
			return fmt.Errorf("%w: %w", ErrNoParticipant, err)
		}
		p.pp.pre = pre
	default:
		if err := p.pp.pre.SetConfig(cfg); err != nil {
			return fmt.Errorf("%w: %w", ErrBadSetting, err)
		}
	}
	p.pp.denoiseOn.Store(p.pp.pre != nil && cfg.Denoise)
	p.pp.agcOn.Store(p.pp.pre != nil && cfg.AGC)
	return nil
}

// closePreprocessor takes p's preprocessor out of the mixer and frees it (its speexdsp state is C
// memory); the room's owner calls it when the feature is turned off and when p leaves.
func (p *Participant) closePreprocessor(r *Room) {
	if p.pp.pre == nil {
		return
	}
	_ = r.mix.SetProcessor(p.mid, nil) // absent after Remove: nothing to take out
	p.pp.pre.Close()
	p.pp.pre = nil
	p.pp.denoiseOn.Store(false)
	p.pp.agcOn.Store(false)
}

// changePreprocessing applies a PATCH's denoise and agc to p (nil fields unchanged); on a refusal
// p's choices are as they were.
func (p *Participant) changePreprocessing(r *Room, c Change) error {
	if c.Denoise == nil && c.AGC == nil {
		return nil
	}
	denoise, agc := p.pp.denoise, p.pp.agc
	if c.Denoise != nil {
		p.pp.denoise = c.Denoise
	}
	if c.AGC != nil {
		p.pp.agc = c.AGC
	}
	if err := p.applyPreprocessing(r); err != nil {
		p.pp.denoise, p.pp.agc = denoise, agc
		return err
	}
	return nil
}

// applyRoomPreprocessing re-applies every participant's preprocessing after the room's settings
// changed (Declare); the room's owner calls it.
func (r *Room) applyRoomPreprocessing() {
	for _, p := range r.parts {
		if err := p.applyPreprocessing(r); err != nil {
			r.b.log.Warn("preprocessing not applied", "room", r.name, "id", p.id, "err", err)
		}
	}
}
