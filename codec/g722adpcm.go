package codec

// This file is the sub-band ADPCM core of ITU-T G.722 (09/2012) at 64 kbit/s (mode 1): the
// quadrature mirror filters that split 16 kHz audio into a lower and a higher band at 8 kHz, the
// 6-bit lower-band and 2-bit higher-band ADPCM quantisers, and the adaptive predictors they share
// with the decoder. Block names in comments are the Recommendation's. The arithmetic is the
// Recommendation's fixed-point arithmetic, and its output is checked bit for bit against spandsp
// (the G.722 of baresip, Asterisk and FreeSWITCH, which passes the ITU test vectors) in
// g722_test.go.

// g722QMF are the 24 QMF coefficients of G.722 Table 11, of which the filter is symmetric: the
// first 12 are stored.
var g722QMF = [12]int32{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

// Lower-band quantiser tables (G.722 Tables 6, 7 and 14–17).
var (
	g722Q6  = [32]int32{0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0}
	g722ILN = [32]int32{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 0}
	g722ILP = [32]int32{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 0}
	g722WL  = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	g722RL4 = [16]int32{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	g722QM4 = [16]int32{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0}
	g722QM6 = [64]int32{
		-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136,
	}
	// g722ILB is the inverse logarithmic scale factor table (Table 18), shared by both bands.
	g722ILB = [32]int32{2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008}
)

// Higher-band quantiser tables (G.722 Tables 8, 9 and 19).
var (
	g722IHN = [3]int32{0, 1, 0}
	g722IHP = [3]int32{0, 3, 2}
	g722WH  = [3]int32{0, -214, 798}
	g722RH2 = [4]int32{2, 1, 2, 1}
	g722QM2 = [4]int32{-7408, -1616, 7408, 1616}
)

// sat16 saturates v to the 16-bit range, as the Recommendation's arithmetic does.
func sat16(v int32) int32 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

// g722Band is the adaptive state of one sub-band (lower or higher): its scale factor and its
// pole-zero predictor.
type g722Band struct {
	s   int32    // predicted signal
	sp  int32    // pole section's prediction
	sz  int32    // zero section's prediction
	r   [3]int32 // reconstructed signal, newest first
	a   [3]int32 // pole coefficients a1, a2
	ap  [3]int32
	p   [3]int32 // partially reconstructed signal
	d   [7]int32 // quantised difference signal
	b   [7]int32 // zero coefficients b1..b6
	bp  [7]int32
	sg  [7]int32
	nb  int32 // logarithmic scale factor
	det int32 // scale factor
}

// adapt runs Block 4 (RECONS, PARREC, UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC)
// with the quantised difference d: it updates the predictor and computes the next prediction.
func (b *g722Band) adapt(d int32) {
	b.d[0] = d
	b.r[0] = sat16(b.s + d)
	b.p[0] = sat16(b.sz + d)

	// UPPOL2: the second pole coefficient.
	for i := 0; i < 3; i++ {
		b.sg[i] = b.p[i] >> 15
	}
	wd1 := sat16(b.a[1] << 2)
	wd2 := wd1
	if b.sg[0] == b.sg[1] {
		wd2 = -wd1
	}
	wd2 = min(wd2, 32767)
	wd3 := int32(-128)
	if b.sg[0] == b.sg[2] {
		wd3 = 128
	}
	wd3 += wd2 >> 7
	wd3 += (b.a[2] * 32512) >> 15
	b.ap[2] = max(-12288, min(12288, wd3))

	// UPPOL1: the first pole coefficient, limited by the second.
	b.sg[0] = b.p[0] >> 15
	b.sg[1] = b.p[1] >> 15
	wd1 = -192
	if b.sg[0] == b.sg[1] {
		wd1 = 192
	}
	wd2 = (b.a[1] * 32640) >> 15
	b.ap[1] = sat16(wd1 + wd2)
	wd3 = sat16(15360 - b.ap[2])
	b.ap[1] = max(-wd3, min(wd3, b.ap[1]))

	// UPZERO: the six zero coefficients.
	wd1 = 0
	if d != 0 {
		wd1 = 128
	}
	b.sg[0] = d >> 15
	for i := 1; i < 7; i++ {
		b.sg[i] = b.d[i] >> 15
		wd2 = -wd1
		if b.sg[i] == b.sg[0] {
			wd2 = wd1
		}
		wd3 = (b.b[i] * 32640) >> 15
		b.bp[i] = sat16(wd2 + wd3)
	}

	// DELAYA: age the delay lines.
	for i := 6; i > 0; i-- {
		b.d[i] = b.d[i-1]
		b.b[i] = b.bp[i]
	}
	for i := 2; i > 0; i-- {
		b.r[i] = b.r[i-1]
		b.p[i] = b.p[i-1]
		b.a[i] = b.ap[i]
	}

	// FILTEP, FILTEZ, PREDIC: the next prediction.
	wd1 = sat16(b.r[1] + b.r[1])
	wd1 = (b.a[1] * wd1) >> 15
	wd2 = sat16(b.r[2] + b.r[2])
	wd2 = (b.a[2] * wd2) >> 15
	b.sp = sat16(wd1 + wd2)
	b.sz = 0
	for i := 6; i > 0; i-- {
		wd1 = sat16(b.d[i] + b.d[i])
		b.sz += (b.b[i] * wd1) >> 15
	}
	b.sz = sat16(b.sz)
	b.s = sat16(b.sp + b.sz)
}

// scale runs LOGSCL/SCALEL (lower band: limit 18432, shift 8) or LOGSCH/SCALEH (higher band:
// limit 22528, shift 10) with the log scale factor multiplier w.
func (b *g722Band) scale(w, limit, shift int32) {
	nb := (b.nb*127)>>7 + w
	b.nb = max(0, min(limit, nb))
	wd1 := (b.nb >> 6) & 31
	wd2 := shift - (b.nb >> 11)
	var wd3 int32
	if wd2 < 0 {
		wd3 = g722ILB[wd1] << -wd2
	} else {
		wd3 = g722ILB[wd1] >> wd2
	}
	b.det = wd3 << 2
}

// g722State is one direction of a G.722 codec at 64 kbit/s: both bands and the QMF history.
type g722State struct {
	band [2]g722Band
	x    [24]int32
}

func (s *g722State) reset() {
	*s = g722State{}
	s.band[0].det = 32
	s.band[1].det = 8
}

// encode encodes pairs of 16 kHz samples from pcm (len(pcm) even) into one byte each in dst.
func (s *g722State) encode(pcm []int16, dst []byte) {
	lo, hi := &s.band[0], &s.band[1]
	for j := 0; j+1 < len(pcm); j += 2 {
		// Transmit QMF: two input samples in, one lower- and one higher-band sample out.
		copy(s.x[:22], s.x[2:])
		s.x[22], s.x[23] = int32(pcm[j]), int32(pcm[j+1])
		var even, odd int32
		for i := 0; i < 12; i++ {
			odd += s.x[2*i] * g722QMF[i]
			even += s.x[2*i+1] * g722QMF[11-i]
		}
		xlow := (even + odd) >> 14
		xhigh := (even - odd) >> 14

		// Block 1L: SUBTRA, QUANTL.
		el := sat16(xlow - lo.s)
		wd := el
		if el < 0 {
			wd = -(el + 1)
		}
		i := int32(1)
		for ; i < 30; i++ {
			if wd < (g722Q6[i]*lo.det)>>12 {
				break
			}
		}
		ilow := g722ILP[i]
		if el < 0 {
			ilow = g722ILN[i]
		}
		// Block 2L: INVQAL, on the 4 most significant bits; Block 3L; Block 4L.
		ril := ilow >> 2
		dlow := (lo.det * g722QM4[ril]) >> 15
		lo.scale(g722WL[g722RL4[ril]], 18432, 8)
		lo.adapt(dlow)

		// Block 1H: SUBTRA, QUANTH.
		eh := sat16(xhigh - hi.s)
		wd = eh
		if eh < 0 {
			wd = -(eh + 1)
		}
		mih := 1
		if wd >= (564*hi.det)>>12 {
			mih = 2
		}
		ihigh := g722IHP[mih]
		if eh < 0 {
			ihigh = g722IHN[mih]
		}
		// Block 2H: INVQAH; Block 3H; Block 4H.
		dhigh := (hi.det * g722QM2[ihigh]) >> 15
		hi.scale(g722WH[g722RH2[ihigh]], 22528, 10)
		hi.adapt(dhigh)

		dst[j/2] = byte(ihigh<<6 | ilow)
	}
}

// decode decodes each byte of payload into two 16 kHz samples in pcm.
func (s *g722State) decode(payload []byte, pcm []int16) {
	lo, hi := &s.band[0], &s.band[1]
	for j, code := range payload {
		// Block 5L: INVQBL with all 6 bits, RECONS; Block 6L: LIMIT.
		ilow := int32(code & 0x3f)
		ihigh := int32(code >> 6)
		rlow := lo.s + (lo.det*g722QM6[ilow])>>15
		rlow = max(-16384, min(16383, rlow))
		// Block 2L: INVQAL with the 4 most significant bits, then Blocks 3L and 4L.
		ril := ilow >> 2
		dlow := (lo.det * g722QM4[ril]) >> 15
		lo.scale(g722WL[g722RL4[ril]], 18432, 8)
		lo.adapt(dlow)

		// Block 2H: INVQAH; Block 5H: RECONS; Block 6H: LIMIT; Blocks 3H and 4H.
		dhigh := (hi.det * g722QM2[ihigh]) >> 15
		rhigh := max(-16384, min(16383, dhigh+hi.s))
		hi.scale(g722WH[g722RH2[ihigh]], 22528, 10)
		hi.adapt(dhigh)

		// Receive QMF: one lower- and one higher-band sample in, two output samples out.
		copy(s.x[:22], s.x[2:])
		s.x[22], s.x[23] = rlow+rhigh, rlow-rhigh
		var out1, out2 int32
		for i := 0; i < 12; i++ {
			out2 += s.x[2*i] * g722QMF[i]
			out1 += s.x[2*i+1] * g722QMF[11-i]
		}
		pcm[2*j] = int16(sat16(out1 >> 11))
		pcm[2*j+1] = int16(sat16(out2 >> 11))
	}
}
