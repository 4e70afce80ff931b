package sipleg

import (
	"os"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Short SIP timers for the tests (loopback never loses a datagram): T1 50 ms, so that a
// transaction's last timer (Timer J, L, H: 64*T1) runs out in 3.2 s instead of 32 s, and
// tests that count goroutines and sockets need not wait half a minute.
const (
	testT1 = 50 * time.Millisecond
	testT2 = 400 * time.Millisecond
	testT4 = 500 * time.Millisecond
	// sipTimersDone is when every transaction started now has ended.
	sipTimersDone = 64*testT1 + testT4 + 500*time.Millisecond
)

// TestMain sets the short SIP timers before any test starts (sipgo reads them as globals), and
// turns on sipgo's trace of every SIP message read and written when SIP_DEBUG is set
// (SIPLEG_LOG turns on the logs).
func TestMain(m *testing.M) {
	sip.SetTimers(testT1, testT2, testT4)
	sip.SIPDebug = os.Getenv("SIP_DEBUG") != ""
	os.Exit(m.Run())
}
