package cluster

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Watch asks every other node's /readyz each interval until ctx ends, marking it up on a 200
// and down on anything else or no answer within the interval (a draining node answers 503, so
// its rooms re-home). selfUp says whether this node is up (not draining).
func (n *Nodes) Watch(ctx context.Context, interval time.Duration, selfUp func() bool, log *slog.Logger) {
	client := &http.Client{Timeout: interval}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
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
