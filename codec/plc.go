package codec

// pitchPLC conceals lost packets of a waveform codec after the manner of ITU-T G.711 Appendix I,
// at 8 kHz for G.711 and at 16 kHz for G.722 (every duration below scaled to the rate):
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
type pitchPLC struct {
	k      int                             // samples per 8 kHz sample: 1 at 8 kHz, 2 at 16 kHz
	hist   [plcHistory * plcMaxScale]int16 // the last audio, oldest first, in hist[:plcHistory*k]
	filled int                             // how many samples of hist are real audio
	lost   int                             // samples concealed since the last good audio
	period int                             // pitch period in samples while concealing
	pos    int                             // position within the repeated period
}

// The durations of pitchPLC in samples at 8 kHz.
const (
	plcMaxScale  = 2   // the highest rate is 16 kHz
	plcHistory   = 390 // 48.75 ms at 8 kHz, as in Appendix I
	plcMinPitch  = 40  // 5 ms: 200 Hz
	plcMaxPitch  = 120 // 15 ms: 66.7 Hz
	plcCorrLen   = 160 // 20 ms correlation window for the pitch search
	plcFullLevel = 80  // 10 ms at full level before fading
	plcFadeLen   = 400 // then 50 ms fading to silence (20% per 10 ms)
)

// newPitchPLC returns a concealer for audio at rate, 8000 or 16000 Hz.
func newPitchPLC(rate int) pitchPLC { return pitchPLC{k: rate / 8000} }

func (p *pitchPLC) reset() { *p = pitchPLC{k: p.k} }

// good records decoded audio and, just after a loss, cross-fades its start from the concealment.
func (p *pitchPLC) good(pcm []int16) {
	if p.lost > 0 {
		// 4 ms plus 1 ms per 10 ms lost, at most 10 ms (Appendix I).
		k := p.k
		fade := min((32+8*(p.lost/(80*k)))*k, 80*k, len(pcm))
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
func (p *pitchPLC) remember(pcm []int16) {
	n := plcHistory * p.k
	hist := p.hist[:n]
	if len(pcm) >= n {
		copy(hist, pcm[len(pcm)-n:])
	} else {
		copy(hist, hist[len(pcm):])
		copy(hist[n-len(pcm):], pcm)
	}
	p.filled = min(p.filled+len(pcm), n)
}

// conceal writes the continuation of the audio for len(pcm) lost samples.
func (p *pitchPLC) conceal(pcm []int16) {
	if p.lost == 0 {
		p.period = p.pitch()
		p.pos = 0
	}
	for i := range pcm {
		pcm[i] = p.next()
	}
}

// next returns the next sample of the concealment and advances it.
func (p *pitchPLC) next() int16 {
	full, fade := plcFullLevel*p.k, plcFadeLen*p.k
	if p.period == 0 || p.lost >= full+fade {
		p.lost++
		return 0
	}
	s := int32(p.hist[plcHistory*p.k-p.period+p.pos])
	p.pos++
	if p.pos == p.period {
		p.pos = 0
	}
	if p.lost > full {
		s = s * int32(full+fade-p.lost) / int32(fade)
	}
	p.lost++
	return int16(s)
}

// pitch returns the period, between 5 and 15 ms, that best predicts the last 20 ms of history
// from the audio one period earlier (the maximum of the normalised cross-correlation), or 0 when
// there is not enough audio or it is silent. Above 8 kHz, like Appendix I, it searches coarsely
// first (at the 8 kHz grid: every k-th lag on every k-th sample, 1/k² of the work) and then
// refines around the best lag.
func (p *pitchPLC) pitch() int {
	k := p.k
	n, corrLen, minPitch, maxPitch := plcHistory*k, plcCorrLen*k, plcMinPitch*k, plcMaxPitch*k
	if p.filled < corrLen+maxPitch {
		return 0
	}
	end := n - corrLen
	var energy int64
	for _, s := range p.hist[end:n] {
		energy += int64(s) * int64(s)
	}
	if energy == 0 {
		return 0
	}
	best, bestScore := minPitch, -1.0
	for lag := minPitch; lag <= maxPitch; lag += k {
		if score := p.pitchScore(end, n, lag, k); score > bestScore*1.0001 {
			best, bestScore = lag, score
		}
	}
	if k == 1 {
		return best
	}
	coarse := best
	bestScore = -1
	for lag := max(minPitch, coarse-k); lag <= min(maxPitch, coarse+k); lag++ {
		if score := p.pitchScore(end, n, lag, 1); score > bestScore*1.0001 {
			best, bestScore = lag, score
		}
	}
	return best
}

// pitchScore rates lag as a pitch period over hist[end:n], looking at every stride-th sample:
// corr²/lagEnergy, which ranks lags like the normalised correlation for a positive correlation,
// and -1 for a negative one.
func (p *pitchPLC) pitchScore(end, n, lag, stride int) float64 {
	var corr, lagEnergy int64
	for i := end; i < n; i += stride {
		a, b := int64(p.hist[i]), int64(p.hist[i-lag])
		corr += a * b
		lagEnergy += b * b
	}
	if corr <= 0 || lagEnergy == 0 {
		return -1
	}
	return float64(corr) * float64(corr) / float64(lagEnergy)
}
