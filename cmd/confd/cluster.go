package main

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"confd/cluster"
	"confd/sipleg"
)

// defaultCascadeBitrate is [cluster] cascade_bitrate's default: Opus at 128 kbit/s, so that a
// mix relayed between nodes loses nothing a listener hears.
const defaultCascadeBitrate = 128000

// clusterSIP makes the SIP server a cluster node ([cluster]): it accepts cascade legs from the
// configured nodes' addresses only, and treats those addresses as trunks, exempt from the
// per-source limits (a node calls on behalf of many people).
func (d *daemon) clusterSIP(cfg *sipleg.Config) {
	if !d.cfg.Cluster.Enabled() {
		return
	}
	d.nodes = cluster.NewNodes(d.cfg.Cluster)
	cfg.Auth.Trunks = slices.Clone(cfg.Auth.Trunks) // d.cfg's stays as configured
	for _, n := range d.nodes.All() {
		if a := n.SIP.Addr().Unmap(); n.Name != d.nodes.Self() {
			cfg.Auth.Trunks = append(cfg.Auth.Trunks, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	cfg.Cascade = d.nodes.IsNode
	cfg.CascadeBitrate = d.cfg.Cluster.CascadeBitrate
	if cfg.CascadeBitrate == 0 {
		cfg.CascadeBitrate = defaultCascadeBitrate
	}
}

// clusterAPI puts the cluster's router in front of the API: requests about rooms owned by
// another node go there, and GET /api/rooms lists every node's rooms.
func (d *daemon) clusterAPI(api http.Handler) http.Handler {
	if d.nodes == nil {
		return api
	}
	return cluster.NewRouter(d.nodes, d.bridge, api)
}

// startCluster watches the other nodes' health and keeps the cascade legs.
func (d *daemon) startCluster() {
	if d.nodes == nil {
		return
	}
	every := time.Duration(d.cfg.Cluster.HealthInterval)
	if every <= 0 {
		every = time.Second
	}
	client := &http.Client{Timeout: every}
	catchUp := func(ctx context.Context) error {
		n, err := d.nodes.CatchUp(ctx, d.bridge, client, d.cfg.APIToken)
		if err == nil {
			d.log.Info("cluster: caught up on room declarations", "declared", n)
		}
		return err
	}
	go d.nodes.Watch(d.ctx, every, func() bool { return !d.bridge.Draining() }, catchUp, d.log)
	go cluster.NewManager(d.nodes, d.bridge, d.sip, d.log).Run(d.ctx, every)
}
