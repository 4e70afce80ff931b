//go:build race

package sipws

// raceEnabled: the race detector slows the room's tick and Opus several times over, so audio
// quality is not judged under it (only that the right tone is heard).
const raceEnabled = true
