package webrtcleg

import "sync"

// capLeg is a bridge leg that records the sizes of the packets the room sends it.
type capLeg struct {
	mu    sync.Mutex
	sizes []int
}

func (l *capLeg) SendRTP(pkt []byte) { l.mu.Lock(); l.sizes = append(l.sizes, len(pkt)); l.mu.Unlock() }
func (l *capLeg) Hangup(string)      {}

