package sdpneg

import "strings"

// sdpText turns a readable multi-line literal into an SDP body with CRLF line ends.
func sdpText(s string) []byte {
	s = strings.TrimSpace(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// Offers as real endpoints write them (addresses, ports and ids changed). They are the
// committed fuzz seeds too.
var (
	// baresip 1.0.0: Opus first, G.722, G.711, telephone-event/8000 only.
	offerBaresip = sdpText(`
		v=0
		o=- 1266197826 1779624003 IN IP4 198.51.100.20
		s=-
		c=IN IP4 198.51.100.20
		t=0 0
		m=audio 10370 RTP/AVP 96 9 0 8 101
		b=AS:101
		a=rtpmap:96 opus/48000/2
		a=fmtp:96 stereo=1;sprop-stereo=1
		a=rtpmap:9 G722/8000
		a=rtpmap:0 PCMU/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-15
		a=sendrecv
		a=label:1
		a=rtcp-rsize
		a=ssrc:1583738240 cname:1f4fa5e0-7b45-4c36-8f47-b0ad1fbbd4a2`)

	// Linphone: Opus, Speex, G.711, G.729, three telephone-events, and a video m-line that
	// reuses payload type 96 without BUNDLE.
	offerLinphone = sdpText(`
		v=0
		o=alice 3357 3332 IN IP4 192.168.3.117
		s=Talk
		c=IN IP4 192.168.3.117
		b=AS:8000
		t=0 0
		a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
		a=record:off
		m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100
		a=rtpmap:96 opus/48000/2
		a=fmtp:96 useinbandfec=1
		a=rtpmap:97 speex/16000
		a=fmtp:97 vbr=on
		a=rtpmap:98 speex/8000
		a=fmtp:98 vbr=on
		a=fmtp:18 annexb=yes
		a=rtpmap:101 telephone-event/48000
		a=rtpmap:99 telephone-event/16000
		a=rtpmap:100 telephone-event/8000
		a=rtcp-fb:* trr-int 1000
		a=rtcp-fb:* ccm tmmbr
		m=video 9078 RTP/AVP 96 97
		a=rtpmap:96 VP8/90000
		a=rtpmap:97 H264/90000
		a=fmtp:97 profile-level-id=42801F
		a=rtcp-fb:* trr-int 1000
		a=rtcp-fb:* ccm tmmbr
		a=rtcp-fb:96 nack pli
		a=rtcp-fb:96 ccm fir
		a=rtcp-fb:97 nack pli`)

	// Zoiper 5: Opus with sprop-maxcapturerate, telephone-event at 48000 and 8000, rtcp-mux.
	offerZoiper = sdpText(`
		v=0
		o=Z 1608292844058 1 IN IP4 10.20.30.40
		s=Z
		c=IN IP4 10.20.30.40
		t=0 0
		m=audio 52032 RTP/AVP 106 9 98 101 0 8 3
		a=rtpmap:106 opus/48000/2
		a=fmtp:106 sprop-maxcapturerate=16000; minptime=20; useinbandfec=1
		a=rtpmap:98 telephone-event/48000
		a=fmtp:98 0-16
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-16
		a=sendrecv
		a=rtcp-mux`)

	// A Cisco IOS gateway: G.729 first, c= repeated at media level, CN, no direction.
	offerCiscoGW = sdpText(`
		v=0
		o=CiscoSystemsSIP-GW-UserAgent 2277 8325 IN IP4 10.1.1.1
		s=SIP Call
		c=IN IP4 10.1.1.1
		t=0 0
		m=audio 17236 RTP/AVP 18 0 8 101 19
		c=IN IP4 10.1.1.2
		a=rtpmap:18 G729/8000
		a=fmtp:18 annexb=no
		a=rtpmap:0 PCMU/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-16
		a=rtpmap:19 CN/8000
		a=ptime:20`)

	// A Cisco SPA phone: 30 ms packets, G.726 and G.729a.
	offerCiscoSPA = sdpText(`
		v=0
		o=- 19436 19436 IN IP4 10.0.0.5
		s=-
		c=IN IP4 10.0.0.5
		t=0 0
		m=audio 16434 RTP/AVP 0 2 8 18 101
		a=rtpmap:0 PCMU/8000
		a=rtpmap:2 G726-32/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:18 G729a/8000
		a=fmtp:18 annexb=no
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-15
		a=ptime:30
		a=sendrecv`)

	// A Polycom phone: G.722 first, direction at session level, a=rtcp.
	offerPolycom = sdpText(`
		v=0
		o=- 1590503521 1590503521 IN IP4 192.168.1.50
		s=Polycom IP Phone
		c=IN IP4 192.168.1.50
		t=0 0
		a=sendrecv
		m=audio 2222 RTP/AVP 9 102 0 8 18 127
		a=rtcp:2223 IN IP4 192.168.1.50
		a=rtpmap:9 G722/8000
		a=rtpmap:102 G7221/16000
		a=fmtp:102 bitrate=32000
		a=rtpmap:0 PCMU/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:18 G729/8000
		a=fmtp:18 annexb=no
		a=rtpmap:127 telephone-event/8000`)

	// FreeSWITCH as a B2BUA: Opus with bitrate limits, telephone-event/8000 only.
	offerFreeSWITCH = sdpText(`
		v=0
		o=FreeSWITCH 1700000000 1700000001 IN IP4 203.0.113.10
		s=FreeSWITCH
		c=IN IP4 203.0.113.10
		t=0 0
		m=audio 24580 RTP/AVP 102 9 0 8 101 13
		a=rtpmap:102 opus/48000/2
		a=fmtp:102 useinbandfec=1; maxaveragebitrate=30000; maxplaybackrate=48000; ptime=20; minptime=10; maxptime=40
		a=rtpmap:9 G722/8000
		a=rtpmap:0 PCMU/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-16
		a=rtpmap:13 CN/8000
		a=ptime:20`)

	// Asterisk: G.711 only, silenceSupp, maxptime.
	offerAsterisk = sdpText(`
		v=0
		o=- 1893274023 1893274023 IN IP4 198.51.100.7
		s=Asterisk
		c=IN IP4 198.51.100.7
		t=0 0
		m=audio 13354 RTP/AVP 0 8 101
		a=rtpmap:0 PCMU/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:101 telephone-event/8000
		a=fmtp:101 0-16
		a=silenceSupp:off - - - -
		a=ptime:20
		a=maxptime:150
		a=sendrecv`)

	// Chromium: a WebRTC offer (ICE, DTLS-SRTP, BUNDLE).
	offerChromium = sdpText(`
		v=0
		o=- 4611731400430051336 2 IN IP4 127.0.0.1
		s=-
		t=0 0
		a=group:BUNDLE 0
		a=extmap-allow-mixed
		a=msid-semantic: WMS
		m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
		c=IN IP4 0.0.0.0
		a=rtcp:9 IN IP4 0.0.0.0
		a=ice-ufrag:Jm2X
		a=ice-pwd:+7BOn9l2gPRPrOXJYrMyJ4ZE
		a=ice-options:trickle
		a=fingerprint:sha-256 1C:0B:6A:7F:2E:3D:96:A4:E5:7A:5D:0B:8F:18:1C:8E:D4:6F:52:9A:13:4C:C3:57:8C:86:4A:86:29:58:F0:2B
		a=setup:actpass
		a=mid:0
		a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
		a=sendrecv
		a=msid:- 3c5ff3f3-6ac5-4c1f-a2b8-8b0e3c1b2d3e
		a=rtcp-mux
		a=rtpmap:111 opus/48000/2
		a=rtcp-fb:111 transport-cc
		a=fmtp:111 minptime=10;useinbandfec=1
		a=rtpmap:63 red/48000/2
		a=fmtp:63 111/111
		a=rtpmap:9 G722/8000
		a=rtpmap:0 PCMU/8000
		a=rtpmap:8 PCMA/8000
		a=rtpmap:13 CN/8000
		a=rtpmap:110 telephone-event/48000
		a=rtpmap:126 telephone-event/8000
		a=ssrc:3735928559 cname:k3Jn2l1Pp0sT4uVw`)
)

// realWorldOffers are the offers above by name.
var realWorldOffers = map[string][]byte{
	"baresip": offerBaresip, "linphone": offerLinphone, "zoiper": offerZoiper,
	"cisco-gw": offerCiscoGW, "cisco-spa": offerCiscoSPA, "polycom": offerPolycom,
	"freeswitch": offerFreeSWITCH, "asterisk": offerAsterisk, "chromium": offerChromium,
}
