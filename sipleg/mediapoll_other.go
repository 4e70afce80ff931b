//go:build !linux

package sipleg

import (
	"sync/atomic"
	"syscall"
)

// mediaPoll is polled reading's state (mediapoll_linux.go); elsewhere the reader goroutine
// always reads, and Poll does nothing.
type mediaPoll struct{ want atomic.Bool }

func (p *mediaPoll) close()                                            {}
func (p *mediaPoll) sendPolled([]byte, syscall.Sockaddr) (bool, error) { return false, nil }
func (m *MediaSocket) handOver() bool                                  { return false }

// Poll does nothing here: the reader goroutine delivers every packet.
func (m *MediaSocket) Poll() {}
