package metrics

import (
	"testing"

	"confd/bridge"
	"confd/dsp"
)

// TestDenoisersCountsSpeexdspStates: confd_denoisers follows the speexdsp states alive, one more
// while a participant's noise suppressor exists and back when it is freed.
func TestDenoisersCountsSpeexdspStates(t *testing.T) {
	m := New(bridge.New(bridge.Config{}))
	base, _ := value(scrape(t, m), "confd_denoisers")
	p, err := dsp.New(dsp.Config{Denoise: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := value(scrape(t, m), "confd_denoisers"); !ok || v != base+1 {
		t.Errorf("confd_denoisers %v (%v) with one more suppressor, want %v", v, ok, base+1)
	}
	p.Close()
	if v, _ := value(scrape(t, m), "confd_denoisers"); v != base {
		t.Errorf("confd_denoisers %v after it was freed, want %v", v, base)
	}
}
