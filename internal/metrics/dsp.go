package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"confd/dsp"
)

// denoisers is confd_denoisers: how many participants' noise suppressors hold speexdsp state
// (dsp.Live), the C memory (about 70 kB each) that rooms with "denoise" cost, which the Go
// runtime's series do not show.
func denoisers() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "confd_denoisers",
		Help: "Participants whose noise suppression is on, each holding a speexdsp state of about 70 kB (participants).",
	}, func() float64 { return float64(dsp.Live()) })
}
