package baresip

import (
	"bufio"
	"bytes"
	"testing"
)

func TestNetstringRoundTrip(t *testing.T) {
	var stream []byte
	msgs := []string{`{"command":"dial","params":"sip:a@b"}`, "", "x,y:z"}
	for _, m := range msgs {
		stream = appendNetstring(stream, []byte(m))
	}
	if want := `37:{"command":"dial","params":"sip:a@b"},0:,5:x,y:z,`; string(stream) != want {
		t.Fatalf("framed %q, want %q", stream, want)
	}
	r := bufio.NewReader(bytes.NewReader(stream))
	for _, want := range msgs {
		got, err := readNetstring(r)
		if err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	for _, bad := range []string{"x:ab,", "-1:,", "3:abc;", "99999999999:", "2:a"} {
		if _, err := readNetstring(bufio.NewReader(bytes.NewReader([]byte(bad)))); err == nil {
			t.Errorf("readNetstring(%q) accepted a malformed netstring", bad)
		}
	}
}

// FuzzReadNetstring feeds arbitrary control-channel bytes to the reader: it must return an
// error or exactly the bytes between the first ':' and a closing ',', never panic.
func FuzzReadNetstring(f *testing.F) {
	for _, seed := range []string{"0:,", "5:hello,", `11:{"ok":true},`, "3:ab", "1:x;", "abc", "2147483648:"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := readNetstring(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		body := bytes.IndexByte(b, ':') + 1
		if end := body + len(msg); end >= len(b) || !bytes.Equal(b[body:end], msg) || b[end] != ',' {
			t.Fatalf("read %q from %q", msg, b)
		}
	})
}
