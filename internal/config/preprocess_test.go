package config

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestRoomPreprocessingKeys: a declared room's denoise, agc and agc_level are read from the file.
func TestRoomPreprocessingKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "confd.toml")
	if err := os.WriteFile(path, []byte("[[room]]\nname = \"quiet\"\ndenoise = true\nagc = true\nagc_level = -24\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]string{"-config", path}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rooms) != 1 || !c.Rooms[0].Denoise || !c.Rooms[0].AGC || c.Rooms[0].AGCLevel != -24 {
		t.Errorf("rooms parsed as %+v", c.Rooms)
	}
}
