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
// is called after the first round in which another node is up, at the start, after a round
// that found none (this node was cut off, or alone), and after a round in which a node seen
// down came back (it may hold changes made while the two could not talk), again each round
// until it returns nil: this node catches up on what it missed (Nodes.CatchUp). It also
// catches up when another node tells it to (Nudge: that node found it lacks a change, made
// while the node that took it saw this one down and this one saw nobody down), and
// antiEntropy after the last time in any case. gone, when not nil, is called
// with a node seen going down (its seats are freed, seats.go).
func (n *Nodes) Watch(ctx context.Context, interval time.Duration, selfUp func() bool, rejoin func(context.Context) error, gone func(node string), log *slog.Logger) {
	client := &http.Client{Timeout: interval}
	t := time.NewTicker(interval)
	defer t.Stop()
	behind := true // a catch-up is due: at the start, or since a round that found none
	caughtUp := time.Now()
	for {
		others := 0
		for _, x := range n.nodes {
			if x.Name == n.self {
				n.SetUp(x.Name, selfUp())
				continue
			}
			up := ready(ctx, client, "http://"+x.HTTP+"/readyz")
			if was := n.Up(x.Name); up != was {
				log.Info("cluster node", "node", x.Name, "up", up)
				behind = behind || up
				if !up && gone != nil {
					gone(x.Name)
				}
			}
			n.SetUp(x.Name, up)
			if up {
				others++
			}
		}
		if n.nudged.Swap(false) || time.Since(caughtUp) >= antiEntropy {
			behind = true // whatever two nodes' views of each other missed
		}
		switch {
		case others == 0:
			behind = true
		case behind && rejoin != nil:
			if err := rejoin(ctx); err != nil {
				log.Warn("cluster catch-up", "err", err)
			} else {
				behind, caughtUp = false, time.Now()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// antiEntropy is the longest time between two catch-ups.
const antiEntropy = 30 * time.Second

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
