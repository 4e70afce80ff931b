// Package pionbrowser is the tests' browser: a pion PeerConnection standing in for a web page
// (the SIP.js page over /sip, the WHIP/WHEP page), OBS or a WHEP player, with confd's own codecs
// for the audio. webrtcleg, sipws, e2e/phones and bench/load all use it; real Chromium is
// confd/e2e's, driven by playwright.
//
// A Browser offers one audio transceiver (Options.Direction), sends an Opus sine tone every
// 20 ms with its RFC 6464 level as a browser does (Options.ToneHz), and keeps the RTP it
// receives, which Decode turns into PCM with Opus FEC and PLC where packets were lost, as a
// browser's NetEq would. It counts confd's RTCP: sender reports about the stream it receives,
// report blocks about the stream it sends. ICE runs on 127.0.0.1 only, or on a virtual network
// (Options.Net) for loss and latency tests.
//
// Tests call Start, which fails the test on an error and closes the Browser with the test; a
// harness outside go test (bench/load) calls New. Offer and Answer give the SDP to a server in
// the test's own way; Join does the whole WHIP or WHEP exchange (RFC 9725) over HTTP, and
// Close leaves with DELETE.
package pionbrowser
