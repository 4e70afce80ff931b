// Package sipdigest is SIP digest authentication on confd's side (RFC 3261 section 22.4, RFC
// 2617, RFC 7616 and RFC 8760): the challenges of a 401 and the check of the Authorization that
// answers them, against a list of Users (the daemon's config.Security.Users).
//
// What makes a captured Authorization worthless elsewhere or later:
//   - qop=auth is required, so the response covers a nonce count and the client's nonce;
//   - the uri parameter must be the request's Request-URI (RFC 2617 section 3.2.2.5), so an
//     answer for one room does not open another;
//   - the nonce count must grow with every use of a nonce (a bounded table, MaxNonces, holds
//     the highest count of each nonce a right answer used);
//   - a nonce is a timestamp and a random part signed with a per-process secret
//     (HMAC-SHA-256), so another process's or a made-up nonce is refused without a table of
//     issued nonces for clients that never come back; a nonce older than NonceLifetime is
//     stale and challenged again with stale=true, which clients answer without asking their
//     user (RFC 2617 section 3.2.1).
//
// Two challenges are offered over one nonce, SHA-256 first and MD5 second (RFC 8760 section
// 2.4), and both are accepted: clients that know SHA-256 take the first, others MD5. Stacks that
// give up on a response carrying any challenge they cannot answer (baresip 1.0, SIP.js, JsSIP:
// MD5OnlyAgents, told by their User-Agent) get the MD5 challenge alone; the configuration may
// also name the algorithms (config.Security.DigestAlgorithms). The digest arithmetic is
// github.com/icholy/digest's.
package sipdigest
