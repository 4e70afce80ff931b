package sipleg

import "context"

// registration keeps one config.Register entry registered (register.go).
type registration struct{}

func (s *Server) startRegistrations()                   {}
func (s *Server) stopRegistrations(ctx context.Context) {}
