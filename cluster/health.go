package cluster

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Watch asks every other node's /readyz each interval until ctx ends, marking it up on a 200
// and down on anything else or no answer within the interval (a draining node answers 503, so
// its rooms re-home). selfUp says whether this node is up (not draining). rejoin, when not nil,
// is called after the first round in which another node is up, at the start and again after a
// round that found none (this node was cut off, or alone), until it returns nil: this node
// (re)joins the cluster and catches up on what it missed (Nodes.CatchUp).
func (n *Nodes) Watch(ctx context.Context, interval time.Duration, selfUp func() bool, rejoin func(context.Context) error, log *slog.Logger) {
	client := &http.Client{Timeout: interval}
	t := time.NewTicker(interval)
	defer t.Stop()
	away := true // no other node seen since the start, or since the last round that found none
	for {
		others := 0
		for _, x := range n.nodes {
			if x.Name == n.self {
				n.SetUp(x.Name, selfUp())
				continue
			}
			up := ready(ctx, client, "http://"+x.HTTP+"/readyz")
			if up != n.Up(x.Name) {
				log.Info("cluster node", "node", x.Name, "up", up)
			}
			n.SetUp(x.Name, up)
			if up {
				others++
			}
		}
		switch {
		case others == 0:
			away = true
		case away && rejoin != nil:
			if err := rejoin(ctx); err != nil {
				log.Warn("cluster catch-up", "err", err)
			} else {
				away = false
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func ready(ctx context.Context, c *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
