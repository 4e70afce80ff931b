package config

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"

	"confd/codec"
)

// Cluster lists the confd nodes that share rooms ([cluster] and [[cluster.node]] in the file).
// Every node is given the same list; a room's owner is chosen from it by rendezvous hashing
// (package cluster), so the nodes agree without shared state. The zero value is one node alone.
type Cluster struct {
	// Self is this node's name in Nodes. Required when Nodes is not empty.
	Self string `toml:"self"`
	// Nodes are every node of the cluster, this one included.
	Nodes []ClusterNode `toml:"node"`
	// HealthInterval is how often a node asks the others' /readyz whether they are up, to
	// choose owners among those that are. Zero means cluster.DefaultHealthInterval (1s).
	HealthInterval Duration `toml:"health_interval"`
	// CascadeBitrate is the Opus bitrate of the cascade legs between nodes, in bit/s, within
	// codec.MinOpusBitrate-codec.MaxOpusBitrate. Zero means cluster.DefaultCascadeBitrate (128000).
	CascadeBitrate int `toml:"cascade_bitrate"`
}

// nodeName is the rule for a node's name: a token that a SIP header (X-Confd-Cascade) and a
// JSON field carry as it is.
var nodeName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ClusterNode is one confd node of a Cluster.
type ClusterNode struct {
	// Name identifies the node ([A-Za-z0-9_-]); it is sent in the X-Confd-Cascade header.
	Name string `toml:"name"`
	// SIP is the node's SIP address, "IP:PORT" (an IP, not a name: the owner accepts cascade
	// calls only from a node's address, and the per-source SIP limits treat it as a trunk).
	SIP string `toml:"sip"`
	// HTTP is the node's HTTP address, "HOST:PORT", to which API requests about the rooms it
	// owns are forwarded.
	HTTP string `toml:"http"`
}

// Enabled reports whether a cluster is configured.
func (c Cluster) Enabled() bool { return len(c.Nodes) > 0 }

func (c Cluster) validate() error {
	if !c.Enabled() {
		if c.Self != "" {
			return fmt.Errorf("cluster: self %q but no [[cluster.node]]", c.Self)
		}
		return nil
	}
	seen := map[string]bool{}
	self := false
	for i, n := range c.Nodes {
		if !nodeName.MatchString(n.Name) || seen[n.Name] {
			return fmt.Errorf("cluster.node %d: name %q must be unique and match %s", i+1, n.Name, nodeName)
		}
		seen[n.Name] = true
		self = self || n.Name == c.Self
		if _, err := netip.ParseAddrPort(n.SIP); err != nil {
			return fmt.Errorf("cluster.node %q: sip %q: want IP:PORT: %v", n.Name, n.SIP, err)
		}
		if _, _, err := net.SplitHostPort(n.HTTP); err != nil {
			return fmt.Errorf("cluster.node %q: http %q: want HOST:PORT: %v", n.Name, n.HTTP, err)
		}
	}
	if !self {
		return fmt.Errorf("cluster: self %q is not one of the [[cluster.node]] names", c.Self)
	}
	if c.HealthInterval < 0 {
		return fmt.Errorf("cluster: health_interval %s: negative", c.HealthInterval)
	}
	if b := c.CascadeBitrate; b != 0 && (b < codec.MinOpusBitrate || b > codec.MaxOpusBitrate) {
		return fmt.Errorf("cluster: cascade_bitrate %d: want %d-%d (Opus), or 0 for the default", b, codec.MinOpusBitrate, codec.MaxOpusBitrate)
	}
	return nil
}
