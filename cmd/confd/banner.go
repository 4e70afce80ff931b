package main

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"confd/bridge"
	"confd/internal/api"
	"confd/internal/buildinfo"
	"confd/internal/config"
)

// banner logs, once confd listens, what a new user needs to start (as LiveKit's --dev does):
// the web page to open, the moderator view with the API token, the SIP URI a phone dials for a
// room on the address that reaches the LAN, whether TLS is on (a browser gives the microphone
// only to a secure origin, and localhost is the only plain-HTTP one, so a second device's
// browser needs HTTPS), and what is open to whom.
//
// A generated API token is printed with the moderator link (no one could use the API
// otherwise); a token the operator chose is not, since it was kept out of ps for a reason.
func (d *daemon) banner(httpAddr, sipAddr net.Addr) {
	b := buildinfo.Get()
	d.log.Info("confd version", "version", b.Version, "commit", b.Commit, "opus", b.Opus)
	reach := d.where
	if reach.lan != reach.local {
		d.log.Info("open the web page", "here", reach.webLocal, "other_devices", reach.web)
	} else {
		d.log.Info("open the web page", "url", reach.web)
	}

	link := reach.moderatorLink()
	if d.tokenSrc != "generated" {
		d.log.Info("moderator view: open the link and enter the API token", "moderator", link, "api_token_from", d.tokenSrc)
	} else {
		d.log.Info("API token generated for this run (choose one with -api-token-file or $"+config.APITokenEnv+")",
			"api_token", d.cfg.APIToken, "moderator", link+"?token="+d.cfg.APIToken)
	}

	phone := []any{"sip_uri", reach.sipURI("ROOM"), "example", reach.sipURI("demo"), "transports", strings.Join(sipTransports, ",")}
	if numbers := d.dialInNumbers(); len(numbers) > 0 {
		phone = append(phone, "dial_in", strings.Join(numbers, ","), "dial_in_uri", reach.sipURI(numbers[0]))
	}
	d.log.Info("call a room from a phone: any room name "+bridge.RoomNamePattern+", the room exists while someone is in it", phone...)

	switch {
	case reach.https && d.cfg.TLSSelfSigned:
		d.log.Info("TLS on (self-signed): a browser on another device gets the microphone once it accepts the certificate", "web", reach.web)
	case reach.https:
		d.log.Info("TLS on: browsers on other devices get the microphone", "web", reach.web)
	default:
		d.log.Warn("TLS off: only a browser on this machine (localhost) gets the microphone; a second device's browser needs HTTPS: start with -tls-self-signed or -tls-cert/-tls-key",
			"web", reach.web)
	}

	d.log.Info("open to "+who(httpAddr)+": the web page, WHIP/WHEP and SIP over WebSocket (rooms with a PIN ask for it)", "http", httpAddr.String())
	if d.cfg.Security.Restrict {
		d.log.Info("SIP calls accepted only from the trunks and digest users of [security] (restrict = true)", "sip", sipAddr.String(), "trunks", strings.Join(d.cfg.Security.Trunks, ","))
	} else {
		d.log.Info("open to "+who(sipAddr)+": SIP calls to any room (set [security] restrict = true to accept only trunks and digest users)", "sip", sipAddr.String())
	}
	metrics := "/metrics is open to " + who(httpAddr) + " (set http_security.metrics_token to close it)"
	if d.cfg.HTTPSecurity.MetricsToken != "" {
		metrics = "/metrics needs its own bearer token (http_security.metrics_token)"
	}
	d.log.Info("the control API (/api/*) needs the API token; "+metrics, "api_token_from", d.tokenSrc)
}

// who says who can reach a listener: this machine only for a loopback address, else every
// host with a route to it.
func who(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	ip, err := netip.ParseAddr(host)
	switch {
	case err == nil && ip.IsLoopback():
		return "this machine only"
	case err == nil && ip.IsUnspecified():
		return "everyone who reaches this machine (every interface) on port " + port
	}
	return "everyone who reaches " + addr.String()
}

// sipTransports are the transports SIP listens on, as the banner and GET /api/info name them.
var sipTransports = []string{"udp", "tcp"}

// reachability is how other devices reach confd: the address of the LAN and the URLs on it.
// start works it out once (d.where): the banner and GET /api/info read it.
type reachability struct {
	lan, local    string // hosts: the one other devices use, and the one this machine uses
	https         bool   // the HTTP listener serves TLS
	web, webLocal string // the web page on each (its scheme worked out once, here)
	sipHost       string // lan:port of SIP
}

func (r reachability) sipURI(user string) string { return "sip:" + user + "@" + r.sipHost }

// moderatorLink is the moderator view on this machine's address for the web page.
func (r reachability) moderatorLink() string { return r.webLocal + "#moderate" }

// reach works out the addresses a banner and the page name: -public-ip when set, else the
// listener's own address when it is a specific one, else the address of the interface that
// routes off this machine (lanAddress, asked once: it opens a socket).
func (d *daemon) reach(httpAddr, sipAddr net.Addr, https bool) reachability {
	r := reachability{https: https}
	scheme := "http"
	if https {
		scheme = "https"
	}
	hh, hp, _ := net.SplitHostPort(httpAddr.String())
	sh, sp, _ := net.SplitHostPort(sipAddr.String())
	lan := lanAddress()
	r.local, r.lan = hostFor(hh, d.cfg.PublicIP, "localhost"), hostFor(hh, d.cfg.PublicIP, lan)
	r.web = scheme + "://" + net.JoinHostPort(r.lan, hp) + "/"
	r.webLocal = scheme + "://" + net.JoinHostPort(r.local, hp) + "/"
	r.sipHost = net.JoinHostPort(hostFor(sh, d.cfg.PublicIP, lan), sp)
	return r
}

// dialInNumbers are the configured dial-in numbers, in the config file's order.
func (d *daemon) dialInNumbers() []string {
	numbers := []string{}
	for _, n := range d.cfg.DialIn {
		numbers = append(numbers, n.Number)
	}
	return numbers
}

// hostFor is the host to name for a listener bound to host: host itself unless it is a
// wildcard, else -public-ip, else fallback.
func hostFor(host, publicIP, fallback string) string {
	if ip, err := netip.ParseAddr(host); err == nil && !ip.IsUnspecified() {
		return ip.String()
	}
	if host != "" && !strings.ContainsAny(host, ":") && net.ParseIP(host) == nil {
		return host // a name the operator bound to
	}
	if publicIP != "" {
		return publicIP
	}
	return fallback
}

// lanAddress is the address of the interface that routes off this machine (the source address
// the kernel picks for a UDP "connection" to a documentation address, RFC 5737; no packet is
// sent), else the first up, non-loopback IPv4 address, else 127.0.0.1.
func lanAddress() string {
	if c, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
		ip := c.LocalAddr().(*net.UDPAddr).IP
		c.Close()
		if !ip.IsLoopback() && !ip.IsUnspecified() {
			return ip.String()
		}
	}
	ifaces, _ := net.Interfaces()
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLinkLocalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// info is the body of GET /api/info: what the page shows a participant about calling in
// (SIP URI, dial-in numbers) and whether the page is served over TLS. It is public, so it
// holds no secret and no room name; the page puts the room typed into uri_template.
type info struct {
	SIP struct {
		Host        string   `json:"host"`
		Port        int      `json:"port"`
		Transports  []string `json:"transports"`
		URITemplate string   `json:"uri_template"` // "sip:{room}@HOST:PORT"
	} `json:"sip"`
	DialIn []string `json:"dial_in"` // numbers that lead to the IVR: key the meeting number, then #
	TLS    bool     `json:"tls"`
}

// serveInfo answers GET /api/info without a token (the join page needs it before anything),
// from what start worked out (d.where): a public request costs no socket.
func (d *daemon) serveInfo(w http.ResponseWriter, r *http.Request) {
	var body info
	host, port, _ := net.SplitHostPort(d.where.sipHost)
	body.SIP.Host = host
	body.SIP.Port, _ = strconv.Atoi(port)
	body.SIP.Transports = sipTransports
	body.SIP.URITemplate = d.where.sipURI("{room}")
	body.DialIn = d.dialInNumbers()
	body.TLS = d.where.https
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, body)
}
