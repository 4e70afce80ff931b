// Package cluster lets several confd nodes share rooms (README "Several nodes").
//
// Ownership is inside confd, routing outside it: every node is configured with the same list of
// nodes (Config, from the file's [cluster]), and a room's owner is the node of highest
// rendezvous hash (Thaler and Ravishankar, "Using name-based mappings to increase hit rates",
// 1998) of the room's name among
// the nodes that are up, so every node agrees without shared state. The SIP and HTTP proxies in
// front (Kamailio's dispatcher, HAProxy) spread calls by their own hashing and may disagree:
// whichever node a participant lands on accepts it. A node that then holds participants of a
// room it does not own joins the owner's room with one cascade leg (sipleg.DialCascade): an
// ordinary participant on both ends, so minus-one mixing alone makes every participant hear
// everyone else once, across nodes, and no voice return to the node it came from.
//
// The Manager watches the bridge's events and keeps exactly one cascade leg per (room, node)
// while the node has people in a room owned elsewhere; Health tracks which nodes are up by
// asking their /readyz; Router forwards API requests about a room to its owner and merges
// GET /api/rooms across the nodes. Room declarations converge on every node, the newest change
// winning (declared.go); a room's limit and head count are kept by its owner from every node's
// reports (Seats, seats.go). The nodes' own requests go to /api/cluster/ (internal.go).
package cluster
