// Package baresip drives real third-party SIP phones for confd's end-to-end tests, so that the
// bridge is judged by software it did not write. Today that is baresip 1.0.0 (Debian's
// baresip-core), started as a child process with a private config folder, ports, tone source and
// recorder; see docs/REAL-PEERS.md for the facts and traps this package encodes.
//
// A Phone (one baresip process) is controlled over its ctrl_tcp module (JSON in netstrings: dial, accept, hangup,
// sndcode) and reports its call states as ctrl_tcp events (CALL_INCOMING, CALL_ESTABLISHED,
// CALL_CLOSED, CALL_DTMF_START). Its microphone is a long sine tone written as a WAV file, and
// its sndfile module records what it decoded, which Recorded returns as mono PCM for the tone
// checks of confd/testkit/audiotest.
//
// Tests call Start with a testkit.TB (a *testing.T or *testing.B): the instance lives in t.TempDir(), is closed by
// t.Cleanup, and its log is printed when the test failed. Without baresip installed the test is
// skipped, unless the environment variable CI is set, where a missing peer is a failure.
package baresip
