package sipleg

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
)

// TestMediaStatsLogAsAttributes: the "call ended" line carries the media counters as attributes
// a JSON log collector can query (media.rtp_in), not a %v-formatted struct in one string, and
// it leaves none of the counters out.
func TestMediaStatsLogAsAttributes(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("call ended", "media", MediaStats{RTPIn: 250, RTPOut: 249, Strangers: 3})
	var line struct {
		Media map[string]uint64 `json:"media"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%s: %v", buf.Bytes(), err)
	}
	if line.Media["rtp_in"] != 250 || line.Media["rtp_out"] != 249 || line.Media["strangers"] != 3 ||
		len(line.Media) != reflect.TypeFor[MediaStats]().NumField() {
		t.Errorf("media attributes %v from %s", line.Media, buf.Bytes())
	}
}
