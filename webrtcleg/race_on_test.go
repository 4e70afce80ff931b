//go:build race

package webrtcleg

// raceEnabled is true under -race, which slows pion and the room several times over: tests
// that judge audio quality in real time only log their figures then.
const raceEnabled = true
