package sipleg

import (
	"os"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// TestMain turns on sipgo's trace of every SIP message read and written when SIP_DEBUG is set
// (SIPLEG_LOG turns on the logs).
func TestMain(m *testing.M) {
	sip.SIPDebug = os.Getenv("SIP_DEBUG") != ""
	os.Exit(m.Run())
}
