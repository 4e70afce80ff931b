// Package guard holds the per-source limits that keep confd serving legitimate callers while it
// is attacked from a public address: Attempts throttles guessing of room PINs (per source and per
// room, growing delay, then a lock-out), and Admission bounds what one source may start (a
// pike-style request rate and a cap on what it holds at once, plus an overall cap).
//
// Sources are keyed by address without port; IPv6 addresses are folded to their /64, since one
// host commonly owns a whole /64 and could otherwise rotate addresses. Every table is bounded:
// past its size the idlest entries are forgotten first, so a spoofed-source flood costs memory
// in proportion to the bound, not to the flood.
//
// Both types are safe for concurrent use and take time as an argument, so tests drive them with
// a fake clock.
package guard
