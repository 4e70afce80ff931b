// Package testkit is confd's one test harness: what every test package and bench/load use to
// start daemons, drive peers and judge what they did, so that each of those ideas lives in one
// place. Nothing in production imports it (layers_test.go holds that).
//
// The root package holds the pieces every kind of test needs: TB, the part of testing.TB the
// kit uses. Its subpackages are one kind of helper each:
//
//   - audiotest: tones and a frequency detector, the way every test judges audio;
//   - rtptest: a tone sent as RTP packets, as a phone would;
//   - baresip: a real third-party SIP phone (baresip) as a child process.
package testkit
