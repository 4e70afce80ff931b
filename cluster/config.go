package cluster

import "time"

// Defaults of Config, the one place each is written (the config file's comments and cmd/confd
// refer to them).
const (
	// DefaultHealthInterval is how often a node asks the others' /readyz whether they are up.
	DefaultHealthInterval = time.Second
	// DefaultCascadeBitrate is the Opus bitrate, in bit/s, of the cascade legs between nodes:
	// 128 kbit/s, so that a room's mix, relayed, loses nothing a listener hears.
	DefaultCascadeBitrate = 128000
)

// Config is a cluster as NewNodes takes it; cmd/confd fills it from the config file's
// [cluster] (validated there). Every zero value but Self's and Nodes' is the default named.
type Config struct {
	// Self is this node's name among Nodes.
	Self string
	// Nodes are every node of the cluster, this one included.
	Nodes []Node
	// HealthInterval is how often a node asks the others' /readyz whether they are up, to
	// choose owners among those that are; it also bounds each such request. Zero means
	// DefaultHealthInterval.
	HealthInterval time.Duration
	// CascadeBitrate is the Opus bitrate of the cascade legs, in bit/s. Zero means
	// DefaultCascadeBitrate.
	CascadeBitrate int
}

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	if c.HealthInterval <= 0 {
		c.HealthInterval = DefaultHealthInterval
	}
	if c.CascadeBitrate <= 0 {
		c.CascadeBitrate = DefaultCascadeBitrate
	}
	return c
}

// HealthInterval returns how often the other nodes' health is asked (Config.HealthInterval).
func (n *Nodes) HealthInterval() time.Duration { return n.cfg.HealthInterval }

// CascadeBitrate returns the Opus bitrate of the cascade legs (Config.CascadeBitrate).
func (n *Nodes) CascadeBitrate() int { return n.cfg.CascadeBitrate }
