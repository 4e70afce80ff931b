package sipua

import (
	"os"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// tortureCase is one RFC 4475 message (testdata/torture) and what the Validator makes of it.
type tortureCase struct {
	file string
	// want is the status of the refusal; 0 means the message passes on to the leg's handlers
	// (a valid request, or a response).
	want int
	// silent marks a refusal that gets no answer: a broken response, or no Via to address.
	silent bool
}

var tortureCases = []tortureCase{
	// RFC 4475 section 3.1.1: valid messages pass.
	{file: "valid/dblreq"}, {file: "valid/esc01"}, {file: "valid/esc02"}, {file: "valid/escnull"},
	{file: "valid/intmeth"}, {file: "valid/longreq"}, {file: "valid/lwsdisp"}, {file: "valid/mpart01"},
	{file: "valid/semiuri"}, {file: "valid/transports"}, {file: "valid/wsinv"},
	{file: "valid/noreason"}, {file: "valid/unreason"}, // responses
	// RFC 4475 section 3.1.2: invalid messages.
	{file: "invalid/badinv01", want: 400},
	{file: "invalid/clerr", want: 400},
	{file: "invalid/ncl", want: 400},
	{file: "invalid/scalar02", want: 400},
	{file: "invalid/scalarlg", silent: true}, // a broken response
	{file: "invalid/quotbal", want: 400},
	{file: "invalid/ltgtruri", want: 400},
	{file: "invalid/lwsruri", want: 400},
	{file: "invalid/lwsstart", want: 400},
	{file: "invalid/trws", want: 400},
	{file: "invalid/escruri", want: 400},
	{file: "invalid/baddate", want: 400},
	{file: "invalid/regbadct"}, // a REGISTER: the leg answers it
	{file: "invalid/badaspec", want: 400},
	{file: "invalid/baddn", want: 400},
	{file: "invalid/badvers", want: 505},
	{file: "invalid/mismatch01", want: 400},
	{file: "invalid/mismatch02", want: 400},
	{file: "invalid/bigcode", silent: true}, // a broken response
	// RFC 4475 section 3.3: application-layer semantics.
	{file: "invalid/insuf", want: 400},
	{file: "invalid/unkscm", want: 416},
	{file: "invalid/novelsc", want: 416},
	{file: "invalid/unksm2"}, // an unknown method: the leg's 405
	{file: "invalid/bext01", want: 420},
	{file: "invalid/invut", want: 415},
	{file: "invalid/regaut01"},
	{file: "invalid/multi01", want: 400},
	{file: "invalid/mcl01", want: 400},
	{file: "invalid/bcast", want: 0}, // a response
	{file: "invalid/zeromf"},
	{file: "invalid/cparam01"},
	{file: "invalid/cparam02"},
	{file: "invalid/regescrt"},
	{file: "invalid/sdp01", want: 406},
	// RFC 4475 section 3.4: an RFC 2543 INVITE is still served.
	{file: "invalid/inv2543"},
	// Added by sipgo: a branch that is only the magic cookie, and a request line without a
	// version and no Via.
	{file: "invalid/badbranch"},
	{file: "invalid/test", want: 400, silent: true},
}

// TestTortureMessages holds the validator to RFC 4475: each torture message passes, or is
// refused with the status the RFC asks for in an answer sipgo can read (which copies what it
// can of the request's Via, From, To, Call-ID and CSeq, so that the client can match it).
func TestTortureMessages(t *testing.T) {
	v := NewValidator("timer")
	for _, tc := range tortureCases {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/torture/" + tc.file + ".dat")
			if err != nil {
				t.Fatal(err)
			}
			msg, r := v.Check(raw)
			if tc.silent && tc.want == 0 {
				if r == nil || r.Answer(raw) != nil {
					t.Fatalf("%v %v, want a refusal without an answer", msg, r)
				}
				return
			}
			if tc.want == 0 {
				if r != nil {
					t.Fatalf("refused %d %s, want it passed on", r.Status, r.Reason)
				}
				if msg == nil {
					t.Fatal("no message")
				}
				return
			}
			if r == nil {
				t.Fatalf("passed on, want %d", tc.want)
			}
			if r.Status != tc.want {
				t.Fatalf("refused %d %s, want %d", r.Status, r.Reason, tc.want)
			}
			answer := r.Answer(raw)
			if tc.silent {
				if answer != nil {
					t.Fatalf("answered %q, want no answer", answer)
				}
				return
			}
			m, err := sip.ParseMessage(answer)
			if err != nil {
				t.Fatalf("answer %q does not parse: %v", answer, err)
			}
			res, ok := m.(*sip.Response)
			if !ok || res.StatusCode != tc.want {
				t.Fatalf("answer %q", answer)
			}
			if tc.want == 420 && res.GetHeader("Unsupported") == nil {
				t.Fatal("420 without Unsupported")
			}
		})
	}
}
