package main

import (
	"context"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"confd/bridge"
	"confd/cluster"
	"confd/internal/api"
	"confd/internal/config"
	"confd/sipleg"
)

// clusterConfig is the cluster's configuration from the file's [cluster] (validated by
// config); its zero values are the cluster package's defaults.
func clusterConfig(c config.Cluster) cluster.Config {
	out := cluster.Config{Self: c.Self, HealthInterval: time.Duration(c.HealthInterval), CascadeBitrate: c.CascadeBitrate}
	for _, n := range c.Nodes {
		out.Nodes = append(out.Nodes, cluster.Node{Name: n.Name, SIP: netip.MustParseAddrPort(n.SIP), HTTP: n.HTTP})
	}
	return out
}

// clusterSIP makes the SIP server a cluster node ([cluster]): it accepts cascade legs from the
// configured nodes' addresses only, and treats the other nodes' addresses as trunks, exempt
// from the per-source limits (otherNodes).
func (d *daemon) clusterSIP(cfg *sipleg.Config) {
	if !d.cfg.Cluster.Enabled() {
		return
	}
	d.nodes = cluster.NewNodes(clusterConfig(d.cfg.Cluster))
	cfg.Auth.Trunks = append(slices.Clone(cfg.Auth.Trunks), otherNodes(d.cfg.Cluster)...) // d.cfg's stays as configured
	cfg.Cascade = d.nodes.IsNode
	cfg.CascadeBitrate = d.nodes.CascadeBitrate()
}

// clusterAPI puts the cluster's router in front of the API: requests about rooms owned by
// another node go there, and GET /api/rooms lists every node's rooms. Catching up on
// declarations changes the bridge and store, the state file of -data-dir, as the API would.
func (d *daemon) clusterAPI(a http.Handler, store *api.RoomStore) http.Handler {
	if d.nodes == nil {
		return a
	}
	d.declarer = storedDeclarer{d.bridge, store}
	d.seats = cluster.NewSeats(d.nodes, d.bridge, d.cfg.APIToken, d.log)
	d.bridge.SetSeats(d.seats) // before the legs take calls
	return cluster.NewRouter(d.nodes, d.bridge, a, d.cfg.APIToken, d.seats)
}

// storedDeclarer applies catching up on declarations to the bridge and the state file.
type storedDeclarer struct {
	*bridge.Bridge
	store *api.RoomStore
}

func (s storedDeclarer) Declare(room string, st bridge.RoomSettings) error {
	if err := s.Bridge.Declare(room, st); err != nil {
		return err
	}
	return s.store.Put(room, st)
}

func (s storedDeclarer) Undeclare(room string) error {
	if err := s.Bridge.Undeclare(room); err != nil {
		return err
	}
	return s.store.Delete(room)
}

// startCluster watches the other nodes' health and keeps the cascade legs.
func (d *daemon) startCluster() {
	if d.nodes == nil {
		return
	}
	every := d.nodes.HealthInterval()
	client := &http.Client{Timeout: every}
	catchUp := func(ctx context.Context) error {
		n, err := d.nodes.CatchUp(ctx, d.declarer, client, d.cfg.APIToken)
		if err == nil {
			d.log.Info("cluster: caught up on room declarations", "declared", n.Declared, "undeclared", n.Undeclared, "told_to_catch_up", n.Behind)
			for _, f := range n.Failed {
				d.log.Warn("cluster: catching up", "err", f)
			}
		}
		return err
	}
	go d.nodes.Watch(d.ctx, every, func() bool { return !d.bridge.Draining() }, catchUp, d.seats.Forget, d.log)
	go cluster.NewManager(d.nodes, d.bridge, d.sip, d.log).Run(d.ctx, every)
	go d.seats.Run(d.ctx, every)
}
