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
// twice: delivery is at least once. Every event carries an id (the JSON "id", also the webhook-id
// header), a ULID that is the same on every retry, never given to another event (not after a
// restart, not by another confd) and, from one confd, increasing as a string. A receiver
// deduplicates by remembering the ids it has processed (for longer than the retry budget) and
// ignoring those; from a single confd, remembering the highest id and ignoring anything at or
// below it works too, across restarts. A receiver that fails for a while and then recovers thus
// sees every event once, in order, provided its outage is shorter than the retry budget.
//
// # Never blocking the media path
//
// The Bus never blocks a room: when a Sender's queue is full (its endpoint is dead or slow) the
// Bus drops the event for that Sender alone and counts it (Stats.Dropped). A dead endpoint costs
// its queue and one goroutine, nothing else.
//
// # Signature: Standard Webhooks
//
// Requests have the form of the Standard Webhooks specification (https://www.standardwebhooks.com),
// so that receivers verify them with a stock library:
//
//	Content-Type: application/json
//	webhook-id: 01KBX3M8Q4J7E2N5R6T8V9W0YZ
//	webhook-timestamp: 1767225600
//	webhook-signature: v1,BASE64
//	X-Confd-Event: join
//
// where BASE64 is the base64 HMAC-SHA256 (RFC 2104, FIPS 180-4) keyed with the secret's key over
// the id, a full stop, the timestamp, a full stop and the body. A secret "whsec_" + base64 is the
// decoded bytes (as the specification writes secrets; make one with
// `echo whsec_$(head -c 32 /dev/urandom | base64)`), any other secret its own bytes (a stock
// verifier is then given "whsec_" + base64 of it). The timestamp (Unix seconds of the attempt,
// re-signed on every retry) lets the receiver refuse replays: Verify rejects a signature older
// than its tolerance. Without a Secret no signature header is sent.
//
// # Shutdown
//
// Close stops taking events, keeps delivering what is queued until its context ends, then gives up
// on the rest (counted in Stats.Abandoned) and returns.
package webhook
