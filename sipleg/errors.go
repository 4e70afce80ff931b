package sipleg

import (
	"errors"
	"fmt"

	"confd/bridge"
	"confd/internal/guard"
)

var (
	// ErrNoPorts is returned when every RTP port pair of the configured range (-rtp) is in use
	// or cannot be bound; the caller answers the INVITE 503 (RFC 3261 section 21.5.4). It is a
	// guard.ErrFull, so that the status table answers a dial-out that meets it 503 too.
	ErrNoPorts = fmt.Errorf("sipleg: no free RTP port pair (%w)", guard.ErrFull)
	// ErrBadPortRange is returned when a port range cannot hold one even RTP port and its RTCP
	// port (RFC 3550 section 11).
	ErrBadPortRange = errors.New("sipleg: bad RTP port range")
	// ErrClosed is returned by operations on a media socket, call or server that was closed.
	ErrClosed = errors.New("sipleg: closed")
	// ErrDraining is returned by DialOut after Drain: no new calls are made (docs/SPEC.md
	// "Start"). It is the bridge's ErrDraining (503 with Retry-After through the status table);
	// the API answered a dial-out while draining 400.
	ErrDraining = fmt.Errorf("sipleg: draining (%w)", bridge.ErrDraining)
	// ErrBadURI is returned by DialOut and Transfer for a target that is not a sip: or sips:
	// URI (RFC 3261 section 19.1; parseURI). It is a bridge.ErrBadSetting, so that the control
	// API answers it 400 through bridge.StatusOf, for a dial as for a transfer.
	ErrBadURI = fmt.Errorf("sipleg: bad SIP URI (%w)", bridge.ErrBadSetting)
	// ErrDialFailed is returned by DialOut when the callee answered with a final failure
	// response (RFC 3261 section 21.4 to 21.6); the error text carries the status code.
	ErrDialFailed = errors.New("sipleg: dial-out failed")
	// ErrDialNumber is returned by DialOut for a room name that is a configured dial-in number:
	// a dial-in number never leads to dial-out (toll fraud). A bridge.ErrBadSetting (400).
	ErrDialNumber = fmt.Errorf("sipleg: a dial-in number cannot dial out (%w)", bridge.ErrBadSetting)
)
