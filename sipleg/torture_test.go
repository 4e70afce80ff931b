package sipleg

import (
	"os"
	"testing"
	"time"

	"confd/testkit"
)

// tortureCase is one RFC 4475 message and what a conference UAS must answer.
type tortureCase struct {
	file string
	// want is the status code; 0 means no answer at all (responses, unanswerable garbage).
	want int
	// handled marks messages that pass validation and reach the handlers, whose UDP answers
	// go to the Via port: the test points the top Via at itself.
	handled bool
	// tcpSkip: a Content-Length larger than the message makes a stream wait for more.
	tcpSkip bool
	// tcpWant, when set, is the status expected over TCP instead of want.
	tcpWant int
}

// tortureCases are the RFC 4475 messages (sipua/testdata/torture) a running server is
// sent: every one its handlers answer, and one of each refusal of the validator, whose every
// case is held by sipua's TestTortureMessages.
var tortureCases = []tortureCase{
	// RFC 4475 section 3.1.1: valid messages, handled normally.
	{file: "valid/dblreq", want: 405, handled: true, tcpSkip: true}, // a UDP case: on a stream the INVITE is a second message    // REGISTER: confd is no registrar
	{file: "valid/esc01", want: 404, handled: true},                 // a room called "sips:user@example.com" cannot exist
	{file: "valid/esc02", want: 405, handled: true},                 // an unknown method
	{file: "valid/escnull", want: 405, handled: true},               // REGISTER
	{file: "valid/intmeth", want: 405, handled: true},               // an unknown method
	{file: "valid/longreq", want: 200, handled: true},               // INVITE: joins room "user"
	{file: "valid/lwsdisp", want: 200, handled: true},               // OPTIONS
	{file: "valid/mpart01", want: 405, handled: true},               // MESSAGE
	{file: "valid/semiuri", want: 200, handled: true},               // OPTIONS
	{file: "valid/transports", want: 200, handled: true},            // OPTIONS
	{file: "valid/wsinv", want: 200, handled: true},                 // INVITE with odd white space: joins "vivekg"
	{file: "valid/noreason", want: 0},                               // a response that matches nothing
	// RFC 4475 section 3.1.2: invalid messages, refused by the validator.
	{file: "invalid/badinv01", want: 400},
	{file: "invalid/clerr", want: 400, tcpSkip: true},
	{file: "invalid/scalarlg", want: 0}, // a response
	{file: "invalid/baddate", want: 400},
	{file: "invalid/regbadct", want: 405, handled: true},
	{file: "invalid/baddn", want: 400, tcpSkip: true}, // the file lacks its final CRLF: a stream waits for it
	{file: "invalid/badvers", want: 505},
	// RFC 4475 section 3.3: application-layer semantics.
	{file: "invalid/unkscm", want: 416},
	{file: "invalid/unksm2", want: 405, handled: true},
	{file: "invalid/bext01", want: 420},
	{file: "invalid/invut", want: 415},
	{file: "invalid/regaut01", want: 405, handled: true},
	{file: "invalid/multi01", want: 400},
	{file: "invalid/zeromf", want: 200, handled: true},
	{file: "invalid/cparam01", want: 405, handled: true},
	{file: "invalid/cparam02", want: 405, handled: true},
	{file: "invalid/regescrt", want: 405, handled: true},
	{file: "invalid/sdp01", want: 406},
	// RFC 4475 section 3.4: an RFC 2543 INVITE is still served.
	{file: "invalid/inv2543", want: 200, handled: true, tcpWant: 400}, // no Content-Length: fine on UDP only
	// Added by sipgo: a branch that is only the magic cookie, and a request line without a version.
	{file: "invalid/badbranch", want: 200, handled: true},
	{file: "invalid/test", want: 0}, // no Via: nowhere to answer
}

func TestTortureMessages(t *testing.T) {
	ts := startServer(t, Config{}, nil)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			for _, tc := range tortureCases {
				if network == "tcp" && tc.tcpSkip {
					continue
				}
				t.Run(tc.file, func(t *testing.T) {
					msg, err := os.ReadFile("../sipua/testdata/torture/" + tc.file + ".dat")
					if err != nil {
						t.Fatal(err)
					}
					c := newRawClient(t, network, ts)
					if tc.handled {
						msg = routable(msg, c.localAddr())
					}
					if network == "tcp" && tc.tcpWant != 0 {
						tc.want = tc.tcpWant
					}
					c.send(msg)
					wait := 2 * time.Second
					if tc.want == 0 {
						wait = 200 * time.Millisecond
					}
					res := c.read(wait)
					switch {
					case tc.want == 0 && res != nil:
						t.Fatalf("answered %d %s, want no answer", res.StatusCode, res.Reason)
					case tc.want == 0:
						return
					case res == nil:
						t.Fatalf("no answer, want %d", tc.want)
					case res.StatusCode != tc.want:
						t.Fatalf("answered %d %s, want %d", res.StatusCode, res.Reason, tc.want)
					}
					if tc.want == 420 && res.GetHeader("Unsupported") == nil {
						t.Fatal("420 without Unsupported")
					}
					if res.StatusCode == 200 && res.CSeq().MethodName == "INVITE" {
						// A valid INVITE joined a room: confirm and tear it down.
						c.send(c.inDialog("ACK", res, res.CSeq().SeqNo))
						c.send(c.inDialog("BYE", res, res.CSeq().SeqNo+1))
						for {
							bye := c.read(2 * time.Second)
							if bye == nil {
								t.Fatal("BYE not answered")
							}
							if bye.CSeq().MethodName == "BYE" {
								if bye.StatusCode != 200 {
									t.Fatalf("BYE answered %d", bye.StatusCode)
								}
								break
							}
						}
						waitIdle(t, ts)
					}
				})
			}
		})
	}
	waitIdle(t, ts)
}

// waitIdle waits until the server has no call and every media port is free again.
func waitIdle(t testing.TB, ts *testServer) {
	t.Helper()
	if !testkit.WaitFor(5*time.Second, func() bool { return ts.ports.InUse() == 0 && ts.Calls() == 0 }) {
		t.Fatalf("%d media port pairs still in use, %d calls", ts.ports.InUse(), ts.Calls())
	}
}
