// Package webhook POSTs the bridge's events (bridge.Event, the JSON of the SSE stream) to the
// configured endpoints, signed with a shared secret.
//
// # Delivery: at least once, in order, deduplicated by id
//
// Each Sender subscribes to the bridge's Bus with a bounded queue (Config.QueueSize) and delivers
// from it one event at a time, in the order the Bus published them. An attempt that fails (a
// network error, a timeout, 408, 429 or any 5xx) is retried with exponential back-off (with
// Retry-After honoured when the endpoint sends one) until it succeeds or its retry budget
// (Config.MaxAttempts, Config.MaxRetryTime) is spent; only then does the Sender move on to the
// next event. Other answers (2xx: delivered; other 4xx: refused) end the event's delivery at once.
//
// An attempt whose answer was lost may have been processed, so an endpoint can see the same event
// twice: delivery is at least once. Every event carries an id (the JSON "id", also the
// X-Confd-Event-Id header) that increases by one per event on the Bus, so a receiver
// deduplicates by remembering the highest id it has processed and ignoring anything at or below
// it. A receiver that fails for a while and then recovers thus sees every event once, in order,
// provided its outage is shorter than the retry budget.
//
// # Never blocking the media path
//
// The Bus never blocks a room: when a Sender's queue is full (its endpoint is dead or slow) the
// Bus drops the event for that Sender alone and counts it (Stats.Dropped). A dead endpoint costs
// its queue and one goroutine, nothing else.
//
// # Signature
//
// Every request carries
//
//	Content-Type: application/json
//	X-Confd-Event-Id: 42
//	X-Confd-Event: join
//	X-Confd-Timestamp: 1767225600
//	X-Confd-Signature: sha256=HEX
//
// where HEX is the lowercase hex HMAC-SHA256 (RFC 2104, FIPS 180-4) keyed with the shared secret
// over the timestamp, a full stop and the body: HMAC(secret, "1767225600." + body). The
// timestamp (Unix seconds of the attempt, re-signed on every retry) lets the receiver refuse
// replays: Verify rejects a signature older than its tolerance. Without a Secret no signature
// header is sent.
//
// # Shutdown
//
// Close stops taking events, keeps delivering what is queued until its context ends, then gives up
// on the rest (counted in Stats.Abandoned) and returns.
package webhook
