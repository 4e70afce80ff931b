package phones

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"confd/codec"
	"confd/testkit"
	"confd/testkit/gophone"
	"confd/testkit/pionbrowser"
)

// whipBrowser is a browser stand-in: a pion browser that joins a room with WHIP (sendrecv,
// Opus), sends a tone and lays what it hears on a Timeline, like a Go phone.
type whipBrowser struct {
	*pionbrowser.Browser
	heard *gophone.Timeline
}

// Heard returns what the client received from from to to (Timeline.Window).
func (w *whipBrowser) Heard(from, to time.Time) []int16 { return w.heard.Window(from, to) }

// joinWHIP posts a WHIP offer for room to base (confd, or HAProxy in front of it) as name, and
// returns once the peer connection is up and the tone flows.
func joinWHIP(t *testing.T, base, room, name string, hz float64) *whipBrowser {
	t.Helper()
	return joinWHIPFrom(t, base, room, name, hz, netip.Addr{})
}

// joinWHIPFrom is joinWHIP for a browser whose HTTP requests come from the address from (a
// browser of another machine's), when valid.
func joinWHIPFrom(t *testing.T, base, room, name string, hz float64, from netip.Addr) *whipBrowser {
	t.Helper()
	w := &whipBrowser{heard: gophone.NewTimeline(time.Now())}
	w.Browser = pionbrowser.Start(t, pionbrowser.Options{OpusOnly: true, ToneHz: hz, ToneAmplitude: 0.15, From: from,
		OnTrack: func(tr *webrtc.TrackRemote) {
			dec, err := codec.NewDecoder(codec.Opus)
			if err != nil {
				return
			}
			pcm := make([]int16, codec.MaxPacketSamples)
			for {
				pkt, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				if n, err := dec.Decode(pkt.Payload, pcm); err == nil && n > 0 {
					w.heard.Add(time.Now(), pkt.SSRC, pkt.Timestamp, 48000, pcm[:n])
				}
			}
		}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Join(ctx, fmt.Sprintf("%s/whip/%s?name=%s", base, room, name)); err != nil {
		t.Fatalf("WHIP %s: %v", room, err)
	}
	return w
}

// browserIP is the address of a browser that reaches the cluster through HAProxy, and
// haproxySource the address HAProxy connects to the nodes from (CONFD_PROXY_SOURCE): loopback
// addresses other than 127.0.0.1, where the tests' own requests and the nodes' come from.
var (
	browserIP     = netip.MustParseAddr("127.0.0.5")
	haproxySource = netip.MustParseAddr("127.0.0.9")
)

// startHAProxy runs deploy/haproxy/haproxy.cfg as it is in front of the cluster's HTTP side,
// its addresses given by the environment as the file says, and waits until it serves.
func startHAProxy(t *testing.T, c *testCluster) string {
	t.Helper()
	requireBinary(t, "haproxy")
	cfgPath, err := filepath.Abs("../../deploy/haproxy/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	bind := netip.AddrPortFrom(kamailioIP, uint16(testkit.MustFreePort(t)))
	cmd := exec.Command("haproxy", "-db", "-f", cfgPath)
	cmd.Env = append(os.Environ(), "CONFD_BIND="+bind.String(), "CONFD_PROXY_SOURCE="+haproxySource.String())
	for i, n := range c.cfg.Nodes {
		cmd.Env = append(cmd.Env, fmt.Sprintf("CONFD_NODE%d=%s", i+1, n.HTTP))
	}
	proc, log := startProgram(t, cmd)
	base := "http://" + bind.String()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-proc.Exited():
			t.Fatalf("haproxy exited:\n%s", log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("haproxy never served /readyz:\n%s", log.String())
	return ""
}

// TestClusterPhoneAndBrowserOnTwoNodes: a phone through Kamailio and a browser (a pion WHIP
// client) through HAProxy land on different nodes of one room and hear each other through a
// cascade leg; the API through HAProxy answers about the room from its owner; and the node the
// browser landed on knows it by its own address, which HAProxy named (PROXY protocol), not by
// HAProxy's: every browser behind HAProxy was one source for the per-source limits.
func TestClusterPhoneAndBrowserOnTwoNodes(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "")
	base := startHAProxy(t, c)
	for i := range 8 {
		room := fmt.Sprintf("web%d", i)
		ada := c.mustDial(c.kam, room, "Ada", toneAda)
		phoneNode := c.landedOn(room, "Ada")
		bob := joinWHIPFrom(t, base, room, "Bob", toneBob, browserIP)
		browserNode := c.landedOn(room, "Bob")
		if phoneNode == browserNode {
			_ = ada.Close()
			bob.Close()
			continue
		}
		t.Logf("room %s: owner %s, phone on %s (Kamailio), browser on %s (HAProxy)", room, c.names[c.ownerIndex(room)], c.names[phoneNode], c.names[browserNode])
		deadline := time.Now().Add(10 * time.Second)
		for {
			from := time.Now().Add(-window)
			a, b := ada.HeardLevel(from, from.Add(window), toneBob), bob.heard.Level(from, from.Add(window), toneAda)
			if a >= heardAt && b >= heardAt {
				t.Logf("the phone hears the browser at %.1f dBFS, the browser the phone at %.1f", a, b)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 10 s the phone hears the browser at %.1f dBFS and the browser the phone at %.1f, want ≥ %.0f", a, b, heardAt)
			}
			time.Sleep(gophone.LevelChunk)
		}
		own := bob.heard.Level(time.Now().Add(-window), time.Now(), toneBob)
		if own > heardAt-downBy {
			t.Errorf("the browser hears its own tone at %.1f dBFS", own)
		}
		// The API through HAProxy: any node answers about the room with the owner's view,
		// where the other node's people are one cascade leg.
		req, _ := http.NewRequest("GET", base+"/api/rooms/"+room, nil)
		req.Header.Set("Authorization", "Bearer "+apiToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"kind":"cascade"`)) {
			t.Errorf("GET /api/rooms/%s through HAProxy: %d %s, want the owner's room with a cascade leg", room, resp.StatusCode, body)
		}
		if !bytes.Contains(body, []byte(`"from":"whip:`+browserIP.String()+`:`)) {
			t.Errorf("GET /api/rooms/%s: %s; want the browser from its own address %s, as HAProxy named it", room, body, browserIP)
		}
		return
	}
	t.Fatal("the phone and the browser landed on one node in every room tried")
}
