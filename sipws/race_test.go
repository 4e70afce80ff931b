//go:build race

package sipws

// raceEnabled: the race detector slows the room's tick and Opus several times over, so audio
// levels and SNR are not judged under it (only which tone is heard).
const raceEnabled = true
