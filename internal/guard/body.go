package guard

// MaxBodyBytes is the one cap on a request body confd reads (1 MiB; larger is 413, RFC 9110
// section 15.5.14): the control API's JSON, a room's declaration a cluster node buffers to
// copy it to the others, and the default of http_security.max_body_bytes. No request confd
// takes comes near it; it bounds what one client can make confd hold in memory.
const MaxBodyBytes = 1 << 20
