package sipleg

import "testing"

func TestDialOutAllowList(t *testing.T) {
	for _, tc := range []struct {
		allow      []string
		user, host string
		want       bool
	}{
		{nil, "anything", "anywhere.example", true},
		{[]string{"+4420"}, "+4420555", "anywhere.example", true},
		{[]string{"+4420"}, "+4431555", "trunk.example", false},
		{[]string{"trunk.example"}, "bob", "Trunk.Example", true},
		{[]string{"trunk.example"}, "bob", "evil.example", false},
		{[]string{"+4420", "trunk.example"}, "+4420555", "evil.example", false},
		{[]string{"+4420", "trunk.example"}, "bob", "trunk.example", false},
		{[]string{"+4420", "00", "trunk.example"}, "0044", "trunk.example", true},
	} {
		if got := (DialOut{Allow: tc.allow}).allows(tc.user, tc.host); got != tc.want {
			t.Errorf("allow %q, %s@%s: %v, want %v", tc.allow, tc.user, tc.host, got, tc.want)
		}
	}
}
