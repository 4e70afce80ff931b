// Package recording records rooms and plays audio into them.
//
// # Recording the mix
//
// A recording joins its room as a participant of kind "recorder" that sends nothing and hears
// the room's mix in Opus (everyone, since it is not a talker, so it shares the encode of the
// other plain listeners and costs the room one RTP header per tick). Its leg copies each packet
// into a ring allocated once and returns; a writer goroutine writes the packets into an Ogg Opus
// file (RFC 7845, pion's oggwriter), so the room's tick never waits for the disk. A writer that
// falls behind by more than Options.Queue packets loses packets, counted in Stats.Dropped.
//
// The file's time line is the room's: frame n of the file is the tick n frames after Start.
// Where the room sent nothing (Opus DTX, RFC 7587 section 3.1.3: the RTP timestamp jumps) the
// writer puts 20 ms silence frames, also before the first packet and up to the stop, and it puts
// four of them in the 80 ms pre-skip that the writer declares, so that a player's length of the
// file equals the ticks recorded, within one frame.
//
// A recording stops, and finishes its file (end-of-stream page, granule positions), on Stop,
// when its room has nobody left but recorders and players, when its participant is hung up (a
// kick, the drain), and at shutdown (Manager.Close). Each start and stop is published on the Bus
// as a "recording" event with data {state: started|stopped, file} (and, on stop,
// duration_seconds, also as the older duration_s, and tracks). A recorder's or a player's own
// joining and leaving publish no join or leave (bridge.InternalKind).
//
// # Per-participant tracks
//
// With Options.Tracks, every participant whose audio the mixer decoded in a tick is also written
// to a WAV file of its own (48 kHz mono, 16 bit), aligned on the same time line, with silence
// wherever it was not heard: for transcription. This needs a tap in the room (PCMTapper): the
// mixer decodes only the participants it may mix, so a participant who is never among the
// talkers has a silent track.
//
// # Playing into a room
//
// A Player is a mixer.Source that plays 48 kHz PCM (a prompt of confd/prompts, a chime of
// notes) one frame per tick with its level known up front; Play joins it to a room as a
// participant of kind "player" (needs SourceJoiner) and has it leave when it has played out.
package recording
