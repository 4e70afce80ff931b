package rtpfwd

import (
	"fmt"

	"confd/bridge"
	"confd/internal/guard"
)

// Errors of Manager.Start; each wraps the bridge or guard error whose status it is answered
// with (bridge.StatusOf).
var (
	// ErrDisabled: [forwarders] allow lists no destination, so forwarders are off (403).
	ErrDisabled = fmt.Errorf("rtpfwd: RTP forwarders are disabled: [forwarders] allow lists no destination (%w)", guard.ErrNotAllowed)
	// ErrDestination: the destination is outside [forwarders] allow (403).
	ErrDestination = fmt.Errorf("rtpfwd: destination outside [forwarders] allow (%w)", guard.ErrNotAllowed)
	// ErrBadRequest: a host that is not an IP address, a port or payload type out of range, an
	// unknown codec (400).
	ErrBadRequest = fmt.Errorf("rtpfwd: bad forwarder (%w)", bridge.ErrBadSetting)
)
