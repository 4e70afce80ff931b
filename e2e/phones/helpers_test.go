package phones

import "testing"

// skipPromptsIfShort skips, under -short, a test that waits through confd's spoken prompts as
// they play: seconds each, in real time.
func skipPromptsIfShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("plays spoken prompts in real time")
	}
}
