package codec

// g711PLC conceals lost G.711 packets at 8 kHz after the manner of ITU-T G.711 Appendix I:
// during a loss it repeats the last pitch period of the audio it has seen, at full level for the
// first 10 ms, then fading linearly by 20% per 10 ms so that after 60 ms it is silent; the first
// good audio after a loss is cross-faded from the continuation of the concealment over 4 ms plus
// 1 ms per 10 ms lost (at most 10 ms), so that neither edge clicks.
//
// The history stays as it was before the loss while concealing, so the repetition is always of
// real audio and the fade is applied once.
//
// It differs from Appendix I in two ways that keep it simple and without look-ahead: it does not
// delay the output by 3.75 ms to smooth the start of the repetition (the repetition starts one
// period back from the last sample, which joins smoothly for voiced speech and tones), and it
// repeats one period for the whole loss instead of widening to three.
type g711PLC struct {
	hist   [plcHistory]int16 // the last audio, oldest first
	filled int               // how many samples of hist are real audio
	lost   int               // samples concealed since the last good audio
	period int               // pitch period in samples while concealing
	pos    int               // position within the repeated period
}

const (
	plcHistory   = 390 // 48.75 ms at 8 kHz, as in Appendix I
	plcMinPitch  = 40  // 5 ms: 200 Hz
	plcMaxPitch  = 120 // 15 ms: 66.7 Hz
	plcCorrLen   = 160 // 20 ms correlation window for the pitch search
	plcFullLevel = 80  // 10 ms at full level before fading
	plcFadeLen   = 400 // then 50 ms fading to silence (20% per 10 ms)
)

func (p *g711PLC) reset() { *p = g711PLC{} }

// good records decoded audio and, just after a loss, cross-fades its start from the concealment.
func (p *g711PLC) good(pcm []int16) {
	if p.lost > 0 {
		// 4 ms plus 1 ms per 10 ms lost, at most 10 ms (Appendix I).
		fade := min(32+8*(p.lost/80), 80, len(pcm))
		for i := 0; i < fade; i++ {
			w := int32(i+1) * 256 / int32(fade+1)
			synth := int32(p.next())
			pcm[i] = int16((int32(pcm[i])*w + synth*(256-w)) / 256)
		}
		p.lost = 0
	}
	p.remember(pcm)
}

// remember appends pcm to the history.
func (p *g711PLC) remember(pcm []int16) {
	if len(pcm) >= plcHistory {
		copy(p.hist[:], pcm[len(pcm)-plcHistory:])
	} else {
		copy(p.hist[:], p.hist[len(pcm):])
		copy(p.hist[plcHistory-len(pcm):], pcm)
	}
	p.filled = min(p.filled+len(pcm), plcHistory)
}

// conceal writes the continuation of the audio for len(pcm) lost samples.
func (p *g711PLC) conceal(pcm []int16) {
	if p.lost == 0 {
		p.period = p.pitch()
		p.pos = 0
	}
	for i := range pcm {
		pcm[i] = p.next()
	}
}

// next returns the next sample of the concealment and advances it.
func (p *g711PLC) next() int16 {
	if p.period == 0 || p.lost >= plcFullLevel+plcFadeLen {
		p.lost++
		return 0
	}
	s := int32(p.hist[plcHistory-p.period+p.pos])
	p.pos++
	if p.pos == p.period {
		p.pos = 0
	}
	if p.lost > plcFullLevel {
		s = s * int32(plcFullLevel+plcFadeLen-p.lost) / plcFadeLen
	}
	p.lost++
	return int16(s)
}

// pitch returns the period, between 5 and 15 ms, that best predicts the last 20 ms of history
// from the audio one period earlier (the maximum of the normalised cross-correlation), or 0 when
// there is not enough audio or it is silent.
func (p *g711PLC) pitch() int {
	if p.filled < plcCorrLen+plcMaxPitch {
		return 0
	}
	end := plcHistory - plcCorrLen
	var energy int64
	for _, s := range p.hist[end:] {
		energy += int64(s) * int64(s)
	}
	if energy == 0 {
		return 0
	}
	best, bestScore := plcMinPitch, -1.0
	for lag := plcMinPitch; lag <= plcMaxPitch; lag++ {
		var corr, lagEnergy int64
		for i := end; i < plcHistory; i++ {
			a, b := int64(p.hist[i]), int64(p.hist[i-lag])
			corr += a * b
			lagEnergy += b * b
		}
		if corr <= 0 || lagEnergy == 0 {
			continue
		}
		// corr²/lagEnergy ranks lags like the normalised correlation, for positive corr.
		score := float64(corr) * float64(corr) / float64(lagEnergy)
		if score > bestScore*1.0001 {
			best, bestScore = lag, score
		}
	}
	return best
}
