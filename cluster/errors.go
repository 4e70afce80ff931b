package cluster

import "errors"

var (
	// ErrNoPeer is returned by Nodes.CatchUp when no other node is up to be asked.
	ErrNoPeer = errors.New("cluster: no other node is up")
	// ErrPeer wraps another node's refusal of a request (its HTTP status).
	ErrPeer = errors.New("cluster: another node refused")
)
