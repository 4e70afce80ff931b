package sipleg

import (
	"context"
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// ErrNoContact is returned for an in-dialog request when the peer gave no Contact: the dialog
// has no remote target to send it to (RFC 3261 section 12.1).
var ErrNoContact = errors.New("sipleg: the peer gave no Contact")

// newInDialogRequest returns a request of method to the dialog's remote target (the peer's
// Contact), over the dialog's transport and, on UDP, from the socket confd listens on
// (fromListener); doInDialog (or the dialog's WriteBye) adds the dialog's headers and sends it.
func (c *call) newInDialogRequest(method sip.RequestMethod) (*sip.Request, error) {
	var contact *sip.ContactHeader
	var invite *sip.Request
	switch {
	case c.dlgS != nil:
		contact, invite = c.dlgS.InviteRequest.Contact(), c.dlgS.InviteRequest
	case c.dlgC != nil && c.dlgC.InviteResponse != nil:
		contact, invite = c.dlgC.InviteResponse.Contact(), c.dlgC.InviteRequest
	}
	if contact == nil {
		return nil, ErrNoContact
	}
	req := sip.NewRequest(method, contact.Address)
	req.SetTransport(invite.Transport())
	c.s.fromListener(req)
	return req, nil
}

// fromListener makes a UDP request leave from the socket confd listens on. sipgo sends a
// request in a dialog from a socket of its own, bound to no address, unless the request names
// its local address, and then reuses that socket for every later request to the same peer:
// in-dialog requests (a BYE, a REFER) came from a port a phone's NAT had never seen, from
// whatever source address the kernel chose, and once a cascade's census INFO had gone to
// another node, that node refused the next cascade INVITE as coming from an unknown address
// (127.0.0.1 on loopback). On a listener bound to no one address, or to a link-local one
// (Serve), sipgo's choice stands.
func (s *Server) fromListener(req *sip.Request) {
	s.mu.Lock()
	local := s.udpLocal
	s.mu.Unlock()
	if local.IP != nil && strings.EqualFold(req.Transport(), "UDP") {
		local.Copy(&req.Laddr)
	}
}

// doInDialog sends req in the call's dialog, as its UAS or its UAC, and returns the final
// response.
func (c *call) doInDialog(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	if c.dlgS != nil {
		return c.dlgS.Do(ctx, req)
	}
	return c.dlgC.Do(ctx, req)
}
