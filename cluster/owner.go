package cluster

import (
	"hash/fnv"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Node is one confd node of the cluster.
type Node struct {
	// Name identifies the node; it is sent in the X-Confd-Cascade header.
	Name string
	// SIP is the node's SIP address, from which alone its cascade calls are accepted.
	SIP netip.AddrPort
	// HTTP is the node's HTTP address, "HOST:PORT", to which API requests about the rooms it
	// owns are forwarded.
	HTTP string
}

// Nodes is the cluster's node list and which of them are up. The zero value is not usable; use
// NewNodes.
type Nodes struct {
	cfg   Config // with its defaults
	self  string
	nodes []Node

	mu   sync.RWMutex
	down map[string]bool

	declMu sync.Mutex
	ledger ledger // declared.go
	// applyMu makes a declaration's change and its record one step: an API request's
	// (Router.declare) and a catch-up's, which must not put back an older change.
	applyMu sync.Mutex
	nudged  atomic.Bool // another node told this one to catch up (Nudge)
}

// NewNodes returns the nodes of cfg, every one up.
func NewNodes(cfg Config) *Nodes {
	cfg = cfg.withDefaults()
	return &Nodes{cfg: cfg, self: cfg.Self, nodes: cfg.Nodes, down: map[string]bool{},
		ledger: ledger{changed: map[string]time.Time{}, gone: map[string]bool{}}}
}

// Self returns this node's name.
func (n *Nodes) Self() string { return n.self }

// All returns every configured node, up or not.
func (n *Nodes) All() []Node { return n.nodes }

// Node returns the node called name.
func (n *Nodes) Node(name string) (Node, bool) {
	for _, x := range n.nodes {
		if x.Name == name {
			return x, true
		}
	}
	return Node{}, false
}

// SetUp records whether the node called name is up.
func (n *Nodes) SetUp(name string, up bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if up {
		delete(n.down, name)
	} else {
		n.down[name] = true
	}
}

// Up reports whether the node called name is up.
func (n *Nodes) Up(name string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return !n.down[name]
}

// IsNode reports whether src is the SIP address of the node called name (the check an owner
// makes of a cascade INVITE's source; the port is not compared, since a node may call from
// another port than it listens on, e.g. over TCP).
func (n *Nodes) IsNode(src netip.Addr, name string) bool {
	x, ok := n.Node(name)
	return ok && name != n.self && x.SIP.Addr().Unmap().WithZone("") == src.Unmap().WithZone("")
}

// Owner returns the node that owns room: the one of highest rendezvous weight among the nodes
// that are up (among all of them when none is). Every node computes the same owner from the same
// list and the same view of who is up, with no coordination; when a node leaves, only its rooms
// move.
func (n *Nodes) Owner(room string) Node {
	n.mu.RLock()
	defer n.mu.RUnlock()
	best, bestW, found := Node{}, uint64(0), false
	for _, x := range n.nodes {
		if n.down[x.Name] {
			continue
		}
		if w := weight(x.Name, room); !found || w > bestW {
			best, bestW, found = x, w, true
		}
	}
	if !found && len(n.nodes) > 0 {
		for _, x := range n.nodes {
			if w := weight(x.Name, room); !found || w > bestW {
				best, bestW, found = x, w, true
			}
		}
	}
	return best
}

// weight is the rendezvous weight of node for room: FNV-1a of both names, finished with
// SplitMix64's mixer so that names differing in one character spread over the whole range.
func weight(node, room string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(node))
	h.Write([]byte{0})
	h.Write([]byte(room))
	z := h.Sum64() + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
