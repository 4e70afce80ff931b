package phones

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"confd/bridge"
	"confd/cluster"
	"confd/codec"
	"confd/internal/config"
	"confd/testkit"
	"confd/testkit/audiotest"
	"confd/testkit/baresip"
	"confd/testkit/gophone"
)

// The cluster tests (README "Several nodes") run three confd nodes on 127.0.0.11-13 behind the
// repo's own deploy/kamailio/kamailio.cfg on 127.0.0.10, as an operator would, with a
// dispatcher list and ping interval of their own.
var (
	kamailioIP = netip.MustParseAddr("127.0.0.10")
	nodeIPs    = []netip.Addr{netip.MustParseAddr("127.0.0.11"), netip.MustParseAddr("127.0.0.12"), netip.MustParseAddr("127.0.0.13")}
)

// clusterPing is the dispatcher's OPTIONS interval in the tests (ds_ping_interval, seconds),
// and clusterFR its INVITE timeout per node (fr_timer, ms) before it tries the next.
const (
	clusterPing = 1
	clusterFR   = 1000
)

// testCluster is the nodes, their shared configuration and Kamailio.
type testCluster struct {
	t     *testing.T
	cfg   config.Cluster
	nodes []*confd
	names []string
	kam   netip.AddrPort
	owner *cluster.Nodes // every node up: who owns what
	// Each node's config file and addresses, to start it again (restart).
	configs []string
	ats     []listenAt
}

// requireBinary skips the test when name is not installed (scripts/setup.sh test installs it).
func requireBinary(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed (scripts/setup.sh test installs it from Debian): %v", name, err)
	}
}

// startProgram starts cmd (Kamailio, HAProxy) with its output in the returned log, and kills
// it when the test ends, printing the log if the test failed.
func startProgram(t *testing.T, cmd *exec.Cmd) (*testkit.Process, *testkit.LockedBuffer) {
	t.Helper()
	log := &testkit.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	proc, err := testkit.StartProcess(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proc.Kill()
		if t.Failed() {
			t.Logf("%s log:\n%s", filepath.Base(cmd.Path), log.String())
		}
	})
	return proc, log
}

// startCluster starts three confd nodes that list each other in [cluster], with extra (top-level
// keys and tables other than [security] and [cluster]) at the head of each one's config file,
// then Kamailio in front of them, and waits until every node sees the others up: before that,
// a node that started first takes itself for the owner of another's rooms, and a change made
// through it (a PUT, a DELETE) skips the nodes it does not see yet.
func startCluster(t *testing.T, extra string) *testCluster {
	t.Helper()
	requireBinary(t, "kamailio")
	var lastLog string
	for range 3 { // a launch that loses a port race is retried with new ports, as startConfd's
		c, log := tryCluster(t, extra)
		if c != nil {
			c.kam = startKamailio(t, c.cfg)
			c.waitAllUp()
			return c
		}
		lastLog = log
	}
	t.Fatalf("the cluster did not start:\n%s", lastLog)
	return nil
}

// tryCluster starts the three nodes on fresh ports; on a node that does not start, it stops
// the others and returns that node's log.
func tryCluster(t *testing.T, extra string) (*testCluster, string) {
	c := &testCluster{t: t, cfg: config.Cluster{HealthInterval: config.Duration(500 * time.Millisecond)}}
	ats := make([]listenAt, len(nodeIPs))
	var nodeList []cluster.Node
	for i, ip := range nodeIPs {
		ats[i] = listenAt{ip: ip, sip: testkit.MustFreePort(t), http: testkit.MustFreePort(t)}
		name := string(rune('a' + i))
		c.names = append(c.names, name)
		n := cluster.Node{Name: name, SIP: netip.AddrPortFrom(ip, uint16(ats[i].sip)), HTTP: netip.AddrPortFrom(ip, uint16(ats[i].http)).String()}
		nodeList = append(nodeList, n)
		c.cfg.Nodes = append(c.cfg.Nodes, config.ClusterNode{Name: name, SIP: n.SIP.String(), HTTP: n.HTTP})
	}
	c.owner = cluster.NewNodes(cluster.Config{Nodes: nodeList})
	var nodes strings.Builder
	for _, n := range c.cfg.Nodes {
		fmt.Fprintf(&nodes, "[[cluster.node]]\nname = %q\nsip = %q\nhttp = %q\n", n.Name, n.SIP, n.HTTP)
	}
	for i, at := range ats {
		// Kamailio is a trunk: every call through it comes from its one address. HAProxy
		// (deploy/haproxy, send-proxy-v2) connects from haproxySource and names each client.
		toml := fmt.Sprintf("%s\n[http_security]\nproxy_protocol_from = [%q]\n\n[security]\ntrunks = [%q]\n\n[cluster]\nself = %q\nhealth_interval = \"500ms\"\n%s",
			extra, haproxySource, kamailioIP, c.names[i], nodes.String())
		path := filepath.Join(t.TempDir(), "confd.toml")
		if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
		c.configs, c.ats = append(c.configs, path), append(c.ats, at)
		d, err := launch(t, []string{"-config", path}, false, at)
		if err != nil {
			for _, started := range c.nodes {
				started.Stop(0)
			}
			return nil, fmt.Sprintf("node %s: %v", c.names[i], err)
		}
		c.nodes = append(c.nodes, d)
	}
	return c, ""
}

// restart kills node i and starts it again on the same addresses with the same config: a node
// that was down and comes back.
func (c *testCluster) restart(i int) {
	c.t.Helper()
	c.kill(i)
	d, err := launch(c.t, []string{"-config", c.configs[i]}, false, c.ats[i])
	if err != nil {
		c.t.Fatalf("node %s did not start again: %v", c.names[i], err)
	}
	c.nodes[i] = d
}

// kill stops node i at once, as a crash would.
func (c *testCluster) kill(i int) {
	_ = c.nodes[i].Kill()
	<-c.nodes[i].Exited()
}

// startKamailio runs deploy/kamailio/kamailio.cfg as it is, listening on kamailioIP, with a
// dispatcher list of cfg's nodes, and waits until it answers OPTIONS.
func startKamailio(t *testing.T, cfg config.Cluster) netip.AddrPort {
	t.Helper()
	dir := t.TempDir()
	var list strings.Builder
	for _, n := range cfg.Nodes {
		fmt.Fprintf(&list, "1 sip:%s\n", n.SIP)
	}
	dsList := filepath.Join(dir, "dispatcher.list")
	if err := os.WriteFile(dsList, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath, err := filepath.Abs("../../deploy/kamailio/kamailio.cfg")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(kamailioIP, uint16(testkit.MustFreePort(t)))
	cmd := exec.Command("kamailio", "-DD", "-E", "-f", cfgPath, "-l", "udp:"+addr.String(),
		"-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"), "-w", dir, "-m", "32", "-M", "4",
		"-A", fmt.Sprintf("DS_LIST=\"%s\"", dsList), "-A", fmt.Sprintf("DS_PING_INTERVAL=%d", clusterPing),
		"-A", fmt.Sprintf("FR_TIMER=%d", clusterFR))
	// Kamailio forks its workers: Kill ends the whole process group it leads.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	proc, log := startProgram(t, cmd)
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	buf := make([]byte, 4096)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if !proc.Alive() {
			t.Fatalf("kamailio exited:\n%s", log.String())
		}
		opt := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%d;rport\r\nMax-Forwards: 70\r\n"+
			"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: %d@probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			addr, local, time.Now().UnixNano(), addr, time.Now().UnixNano())
		_, _ = conn.WriteToUDPAddrPort([]byte(opt), addr)
		_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, _, err := conn.ReadFromUDPAddrPort(buf); err == nil && strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
			return addr
		}
	}
	t.Fatalf("kamailio never answered OPTIONS:\n%s", log.String())
	return netip.AddrPort{}
}

// dial calls room through Kamailio (or, with via set, straight to that node).
func (c *testCluster) dial(via netip.AddrPort, room, name string, hz float64) (*gophone.Phone, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := gophone.Call(ctx, gophone.Config{Server: via, User: strings.ToLower(name), Name: name, ToneHz: hz, Codec: codec.PCMU}, room)
	if err == nil {
		c.t.Cleanup(func() { _ = p.Close() })
	}
	return p, err
}

// mustDial is dial that fails the test on an error.
func (c *testCluster) mustDial(via netip.AddrPort, room, name string, hz float64) *gophone.Phone {
	c.t.Helper()
	p, err := c.dial(via, room, name, hz)
	if err != nil {
		c.t.Fatalf("%s calls %s via %s: %v", name, room, via, err)
	}
	return p
}

// getLocal sends GET path with the API token to node i, which answers from its own state
// (cluster.LocalHeader: never forwarded to the owner), and decodes a 200 answer's JSON into v
// unless v is nil. It returns the status, 0 with the error when the node does not answer (it
// may be down), or the status with the error when the body does not decode.
func (c *testCluster) getLocal(i int, path string, v any) (int, error) {
	req, _ := http.NewRequest("GET", c.nodes[i].base+path, nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	req.Header.Set(cluster.LocalHeader, "test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode, nil
}

// localState is the node's own view of a room (getLocal), or ok false.
func (c *testCluster) localState(i int, room string) (st bridge.RoomState, ok bool) {
	status, err := c.getLocal(i, "/api/rooms/"+room, &st)
	return st, status == http.StatusOK && err == nil
}

// localRoom is localState as the kinds of the participants by name.
func (c *testCluster) localRoom(i int, room string) map[string]string {
	st, ok := c.localState(i, room)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for _, p := range st.Participants {
		out[p.Name] = p.Kind
	}
	return out
}

// landedOn returns the index of the node that holds the participant called name in room,
// waiting up to 5 s for it to join.
func (c *testCluster) landedOn(room, name string) int {
	c.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for i := range c.nodes {
			if k, ok := c.localRoom(i, room)[name]; ok && k != bridge.KindCascade {
				return i
			}
		}
	}
	c.t.Fatalf("%s is in room %s on no node", name, room)
	return -1
}

// ownerIndex returns the index of room's owner while every node is up.
func (c *testCluster) ownerIndex(room string) int {
	o := c.owner.Owner(room).Name
	for i, n := range c.names {
		if n == o {
			return i
		}
	}
	return -1
}

// nodesOf returns the index of room's owner while every node is up, and of the two other
// nodes.
func (c *testCluster) nodesOf(room string) (owner, second, third int) {
	owner = c.ownerIndex(room)
	return owner, (owner + 1) % 3, (owner + 2) % 3
}

// roomLandingOffOwner finds a room whose calls Kamailio sends to a node that is not its owner
// (their hashes are independent: two rooms in three do), calling the first phone into it.
func (c *testCluster) roomLandingOffOwner(prefix, name string, hz float64) (room string, landed int, p *gophone.Phone) {
	c.t.Helper()
	for i := range 12 {
		room = fmt.Sprintf("%s%d", prefix, i)
		p = c.mustDial(c.kam, room, name, hz)
		landed = c.landedOn(room, name)
		if landed != c.ownerIndex(room) {
			return room, landed, p
		}
		_ = p.Close()
		c.waitGone(landed, room, name)
	}
	c.t.Fatal("Kamailio sent every room to its owner")
	return
}

// waitGone waits until name has left room on node i.
func (c *testCluster) waitGone(i int, room, name string) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, ok := c.localRoom(i, room)[name]; !ok {
			return
		}
	}
	c.t.Fatalf("%s never left %s on node %s", name, room, c.names[i])
}

// TestClusterThreePhonesHearEachOtherAcrossNodes: Ada and Bob dial one room through Kamailio,
// which sends them to a node that does not own the room; Cy dials the owner. The non-owner
// joins the owner's room with one cascade leg, and each phone hears the other two and not
// itself; a tone enters the room once (Cy, across the cascade, hears Ada as loud as Bob does
// beside her).
func TestClusterThreePhonesHearEachOtherAcrossNodes(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "")
	room, landed, ada := c.roomLandingOffOwner("cascade", "Ada", toneAda)
	bob := c.mustDial(c.kam, room, "Bob", toneBob)
	if got := c.landedOn(room, "Bob"); got != landed {
		t.Fatalf("Kamailio sent Bob to node %s and Ada to %s: it hashes on the room", c.names[got], c.names[landed])
	}
	owner := c.ownerIndex(room)
	cy := c.mustDial(c.nodes[owner].sip, room, "Cy", toneCy)
	t.Logf("room %s: owner %s, Ada and Bob on %s (via Kamailio), Cy on the owner", room, c.names[owner], c.names[landed])

	phones := []*gophone.Phone{ada, bob, cy}
	waitSteady(t, phones, hearing{ada: {toneBob, toneCy}, bob: {toneAda, toneCy}, cy: {toneAda, toneBob}}.in)
	from := time.Now().Add(-window)
	for _, p := range phones {
		own := p.Config().ToneHz
		if lvl := p.HeardLevel(from, from.Add(window), own); lvl > heardAt-downBy {
			t.Errorf("%s hears its own tone at %.1f dBFS: an echo through the cascade", p, lvl)
		}
	}
	viaCascade, beside := cy.HeardLevel(from, from.Add(window), toneAda), bob.HeardLevel(from, from.Add(window), toneAda)
	t.Logf("Ada heard at %.1f dBFS by Bob (same node) and %.1f by Cy (through the cascade)", beside, viaCascade)
	if d := viaCascade - beside; d > 3 || d < -3 {
		t.Errorf("Cy hears Ada %.1f dB from Bob's level: want one copy of her tone (within 3 dB)", d)
	}
	if k := c.localRoom(owner, room)["cascade "+c.names[landed]]; k != bridge.KindCascade {
		t.Errorf("the owner's room has no cascade leg from %s: %v", c.names[landed], c.localRoom(owner, room))
	}
	// The cascade leg carries Opus (the best codec both ends have), both ways, and is listed
	// as a cascade to or from the other node, not as a person.
	for _, i := range []int{owner, landed} {
		st, _ := c.localState(i, room)
		for _, p := range st.Participants {
			if p.Kind == bridge.KindCascade {
				t.Logf("node %s: %s on %s, node %q", c.names[i], p.Name, p.Codec, p.Node)
				if !p.Cascade || (i == owner && p.Node != c.names[landed]) || (i == landed && p.Node == "") {
					t.Errorf("node %s lists the cascade leg with cascade %v node %q, want true and the other node", c.names[i], p.Cascade, p.Node)
				}
				if !strings.Contains(strings.ToLower(p.Codec), "opus") {
					t.Errorf("node %s: the cascade leg is on %s, want Opus", c.names[i], p.Codec)
				}
			}
		}
	}

	// GET /api/rooms on any node lists the room once, with its owner and its three people.
	var list []cluster.RoomSummary
	if err := json.Unmarshal(c.nodes[(owner+1)%3].must(200, "GET", "/api/rooms", nil), &list); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range list {
		if r.Room == room {
			found = true
			if r.Owner != c.names[owner] || r.Participants != 3 {
				t.Errorf("GET /api/rooms: %+v, want owner %s and 3 participants", r, c.names[owner])
			}
		}
	}
	if !found {
		t.Errorf("GET /api/rooms: %+v lacks %s", list, room)
	}

	// The last person on the non-owner leaves: its cascade leg goes too.
	_ = ada.Close()
	_ = bob.Close()
	c.waitGone(owner, room, "cascade "+c.names[landed])
}

// TestClusterDrainAndKill: a node drained (SIGTERM with a drain time) keeps its call while
// Kamailio sends the next call for the same room to another node (its OPTIONS and the new
// INVITE are answered 503); a node then killed outright is passed over within the dispatcher's
// ping interval plus a second (Kamailio's INVITE timeout sends the call to the next node).
func TestClusterDrainAndKill(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "drain = \"30s\"")
	const room = "drained"
	ada := c.mustDial(c.kam, room, "Ada", toneAda)
	first := c.landedOn(room, "Ada")
	if err := c.nodes[first].Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	unready := func() bool {
		resp, err := http.Get(c.nodes[first].base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}
	if !testkit.WaitFor(5*time.Second, unready) {
		t.Fatalf("node %s still ready after SIGTERM", c.names[first])
	}
	bob := c.mustDial(c.kam, room, "Bob", toneBob)
	second := c.landedOn(room, "Bob")
	if second == first {
		t.Fatalf("Bob's call landed on the draining node %s", c.names[first])
	}
	// Ada's call goes on, and the draining node cascades it to the room's new owner: she and
	// Bob hear each other.
	waitSteady(t, []*gophone.Phone{ada, bob}, hearing{ada: {toneBob}, bob: {toneAda}}.in)
	select {
	case <-ada.Ended():
		t.Fatalf("Ada's call on the draining node ended: %s", ada.EndReason())
	default:
	}
	t.Logf("drained %s: Ada stays on it, Bob lands on %s, they hear each other", c.names[first], c.names[second])

	// Kill the node Bob is on; a new call for the room succeeds on the last node.
	_ = bob.Close()
	killed := time.Now()
	if err := c.nodes[second].Kill(); err != nil {
		t.Fatal(err)
	}
	var cy *gophone.Phone
	for cy == nil {
		p, err := c.dial(c.kam, room, "Cy", toneCy)
		if err == nil {
			cy = p
			break
		}
		if time.Since(killed) > 10*time.Second {
			t.Fatalf("no call succeeded in the 10 s after node %s was killed: %v", c.names[second], err)
		}
	}
	took := time.Since(killed)
	third := c.landedOn(room, "Cy")
	t.Logf("killed %s: Cy's call answered on %s %v after the kill (ping interval %d s)", c.names[second], c.names[third], took.Round(time.Millisecond), clusterPing)
	if third == first || third == second {
		t.Errorf("Cy landed on %s, which is draining or dead", c.names[third])
	}
	select {
	case <-ada.Ended():
		t.Errorf("Ada's call on the draining node ended: %s", ada.EndReason())
	default:
	}
	if limit := time.Duration(clusterPing)*time.Second + time.Second; took > limit {
		t.Errorf("the first call after the kill was answered %v after it, want within %v (ping interval plus a second)", took, limit)
	}
}

// cascadeTurns is how many times each speaker of TestClusterCascadeAddedLatency begins after
// silence.
const cascadeTurns = 7

// TestClusterCascadeAddedLatency: a cascaded pair hears each other with at most issue 11's
// 20 ms more than two phones on one node. Ada and Bob are on one node, Cy and Dee on the room's
// owner. Ada speaks after silence and is heard by Bob beside her and by Cy through the
// cascade; then Cy speaks and is heard by Dee beside him and by Ada through the cascade. Each
// turn's two onsets are of one sound, so the speaker's timing cancels out, and the later one,
// taken by arrival (arrivalLog), is what the cascade adds in that direction. The figures are
// logged for the report (timing bars are not asserted); what is asserted is that the tone
// enters once: nobody hears their own tone back, and the far listener hears it as loud as the
// near one.
func TestClusterCascadeAddedLatency(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "")
	room, landed, ada := c.roomLandingOffOwner("latency", "Ada", toneAda)
	owner := c.ownerIndex(room)
	bob := c.mustDial(c.nodes[landed].sip, room, "Bob", toneBob)
	cy := c.mustDial(c.nodes[owner].sip, room, "Cy", toneCy)
	dee := c.mustDial(c.nodes[owner].sip, room, "Dee", toneDee)
	phones := []*gophone.Phone{ada, bob, cy, dee}
	waitSteady(t, phones, hearing{bob: {toneAda}, cy: {toneAda}, dee: {toneBob}, ada: {toneDee}}.in)
	for _, p := range phones {
		p.SetTone(false)
	}
	t.Logf("room %s: Ada and Bob on %s, Cy and Dee on the owner %s", room, c.names[landed], c.names[owner])
	type direction struct {
		speaker, near, far *gophone.Phone
		added              []time.Duration
	}
	dirs := []*direction{{speaker: ada, near: bob, far: cy}, {speaker: cy, near: dee, far: ada}}
	// A turn in which a phone's own sender stalled (this process starved on the busy test
	// machine) witnesses the machine, not confd: it is passed over, and logged, and another
	// taken, up to three times the turns.
	passed := 0
	for turn := 0; turn < 3*cascadeTurns && (len(dirs[0].added) < cascadeTurns || len(dirs[1].added) < cascadeTurns); turn++ {
		for _, d := range dirs {
			time.Sleep(600 * time.Millisecond) // silence: every talker detector lets go
			start := time.Now()
			d.speaker.SetTone(true)
			time.Sleep(window + 100*time.Millisecond)
			d.speaker.SetTone(false)
			if slices.ContainsFunc(phones, func(p *gophone.Phone) bool { return p.SendStalled(start.Add(-stallReach), start.Add(window)) }) {
				passed++
				t.Logf("turn %d of %s passed over: a phone's sender stalled", turn, d.speaker)
				continue
			}
			near, ok1 := d.near.OnsetAfter(start, start.Add(window))
			far, ok2 := d.far.OnsetAfter(start, start.Add(window))
			if !ok1 || !ok2 {
				t.Fatalf("turn %d: %s not heard within a second: by %s %v, by %s %v", turn, d.speaker, d.near, ok1, d.far, ok2)
			}
			d.added = append(d.added, far.Sub(near))
			// Once: the speaker does not hear itself back, and the far listener hears one
			// copy, as loud as the near one (within 3 dB).
			from, to := start.Add(300*time.Millisecond), start.Add(window)
			hz := d.speaker.Config().ToneHz
			if lvl := d.speaker.HeardLevel(from, to, hz); lvl > heardAt-downBy {
				t.Errorf("turn %d: %s hears its own tone at %.1f dBFS: a loop through the cascade", turn, d.speaker, lvl)
			}
			if n, f := d.near.HeardLevel(from, to, hz), d.far.HeardLevel(from, to, hz); f-n > 3 || f-n < -3 {
				t.Errorf("turn %d: %s heard at %.1f dBFS by %s beside it, %.1f by %s through the cascade: want one copy", turn, d.speaker, n, d.near, f, d.far)
			}
		}
	}
	for _, d := range dirs {
		if len(d.added) == 0 {
			t.Fatalf("every turn of %s was passed over: the phones' process starved throughout", d.speaker)
		}
	}
	if passed > 0 {
		t.Logf("%d turns passed over for a sender stall", passed)
	}
	for _, d := range dirs {
		sorted := slices.Sorted(slices.Values(d.added))
		// Reported, not asserted (house rule: tests hold behaviour, not timing bars): the
		// issue's bar is 20 ms.
		t.Logf("%s to %s through the cascade: added min %v median %v max %v (turns %v; issue 11's bar: ≤ 20 ms)",
			d.speaker.Config().Name, d.far.Config().Name, sorted[0].Round(100*time.Microsecond),
			sorted[len(sorted)/2].Round(100*time.Microsecond), sorted[len(sorted)-1].Round(100*time.Microsecond), roundAll(d.added))
	}
}

// roundAll rounds each duration to 0.1 ms, for logs.
func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(100 * time.Microsecond)
	}
	return out
}

// TestClusterTwentyRoomsOverThreeNodes: twenty rooms, each with a phone through Kamailio and a
// phone on a node chosen round robin, are spread over the three nodes' ownership; in each room
// the two hear each other (through a cascade wherever they are on different nodes), and
// GET /api/rooms on one node lists the twenty with their owners and two people each.
func TestClusterTwentyRoomsOverThreeNodes(t *testing.T) {
	// Not parallel: its forty phones live in this test process, whose other tests judge levels
	// in windows their own phones' sending must be on time for; beside it they were starved
	// (a full run saw TestGainHalvesOnePair find no whole window in 4 s, its senders stalled).
	c := startCluster(t, "")
	const rooms = 20
	hear := hearing{}
	var phones []*gophone.Phone
	for i := range rooms {
		room := fmt.Sprintf("many%d", i)
		// Two tones per room, reused across rooms (each room is mixed apart).
		a := c.mustDial(c.kam, room, "Ada", toneAda)
		b := c.mustDial(c.nodes[i%3].sip, room, "Bob", toneBob)
		hear[a], hear[b] = []float64{toneBob}, []float64{toneAda}
		phones = append(phones, a, b)
	}
	// Forty phones in one process: a window in which none stalled (waitSteady's measure) is
	// rare on a busy machine, and a stall only dents a level, so levels alone are judged.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(gophone.LevelChunk) {
		from, deaf := time.Now().Add(-window), 0
		for p, tones := range hear {
			if p.HeardLevel(from, from.Add(window), tones[0]) < heardAt {
				deaf++
			}
		}
		if deaf == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s, %d of the %d phones do not hear the other phone of their room", deaf, len(phones))
		}
	}
	var list []cluster.RoomSummary
	if err := json.Unmarshal(c.nodes[0].must(200, "GET", "/api/rooms", nil), &list); err != nil {
		t.Fatal(err)
	}
	owned := map[string]int{}
	for _, r := range list {
		if !strings.HasPrefix(r.Room, "many") {
			continue
		}
		owned[r.Owner]++
		if r.Participants != 2 || r.Owner != c.owner.Owner(r.Room).Name {
			t.Errorf("GET /api/rooms: %+v, want 2 participants and owner %s", r, c.owner.Owner(r.Room).Name)
		}
	}
	t.Logf("rooms owned: %v", owned)
	if n := owned["a"] + owned["b"] + owned["c"]; n != rooms || len(owned) != 3 {
		t.Errorf("GET /api/rooms lists %d of the %d rooms, owned by %v: want all, spread over the three nodes", n, rooms, owned)
	}
}

// TestClusterDialInReachesARoomOwnedElsewhere: a caller (baresip) dials node a's dial-in
// number and keys a meeting number whose room node b or c owns; node a cascades it there, and
// a phone on the owner hears it.
func TestClusterDialInReachesARoomOwnedElsewhere(t *testing.T) {
	baresip.Require(t)
	skipPromptsIfShort(t)
	t.Parallel()
	c := startCluster(t, "[[dialin]]\nnumber = \"1000\"\n")
	room := ""
	for i := 4200; i < 4300 && room == ""; i++ {
		if r := fmt.Sprint(i); c.ownerIndex(r) != 0 {
			room = r
		}
	}
	owner := c.ownerIndex(room)
	bob := c.mustDial(c.nodes[owner].sip, room, "Bob", toneBob)
	caller := c.nodes[0].baresipCall("1000", "Ada", toneAda)
	if err := caller.SendDTMF(room + "#"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(25 * time.Second)
	for c.localRoom(owner, room)["cascade a"] != bridge.KindCascade {
		if time.Now().After(deadline) {
			t.Fatalf("no cascade from node a in room %s on its owner %s: %v", room, c.names[owner], c.localRoom(owner, room))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, ok := c.localRoom(0, room)["Ada"]; !ok {
		t.Errorf("the dial-in caller is not in room %s on node a: %v", room, c.localRoom(0, room))
	}
	waitSteady(t, []*gophone.Phone{bob}, hearing{bob: {toneAda}}.in)
	t.Logf("the caller of node a's dial-in number is heard in room %s on its owner %s", room, c.names[owner])
}

// TestClusterRoomPINHoldsOnEveryNode: a room declared with a PIN through one node's API has it
// on every node, so a caller who lands on (or dials) a node that does not own the room is asked
// for it there and does not reach the owner's room through a cascade, which the owner lets in
// without the PIN.
func TestClusterRoomPINHoldsOnEveryNode(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "")
	const room = "pinned"
	owner, other, third := c.nodesOf(room)
	c.nodes[third].must(200, "PUT", "/api/rooms/"+room, map[string]any{"pin": "2468"})
	bob := c.mustDial(c.nodes[other].sip, room, "Bob", toneBob)
	defer bob.Close()
	time.Sleep(2 * time.Second) // long past a join and a cascade, were there no PIN
	if k, ok := c.localRoom(other, room)["Bob"]; ok {
		t.Errorf("Bob, who typed no PIN, is in the room on node %s (%s)", c.names[other], k)
	}
	if st, _ := c.localState(owner, room); len(st.Participants) != 0 {
		t.Errorf("the owner's room has participants: %+v", st.Participants)
	}
	for i := range c.nodes {
		st, ok := c.localState(i, room)
		if !ok || !st.Declared {
			t.Errorf("node %s does not have room %s declared: %+v", c.names[i], room, st)
		}
	}
}

// TestClusterNodeBackCatchesUpOnDeclarations: a room declared with a PIN while a node was down
// (killed) has it on that node once it is back: at its start the node asks the others for their
// rooms and takes each declared room's settings from its owner, so a caller who lands there is
// asked for the PIN (TestClusterRoomPINHoldsOnEveryNode) instead of being cascaded into the
// owner's room, which lets cascades in without it.
func TestClusterNodeBackCatchesUpOnDeclarations(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "")
	const room = "latecomer"
	owner, away, up := c.nodesOf(room)
	c.kill(away)
	c.nodes[owner].must(200, "PUT", "/api/rooms/"+room, map[string]any{"pin": "1357", "locked": false})
	if st, ok := c.localState(up, room); !ok || !st.Declared || st.Settings.PIN != "1357" {
		t.Fatalf("node %s, up at the time, does not have the declaration: %+v", c.names[up], st)
	}
	c.restart(away)
	caughtUp := func() bool {
		st, ok := c.localState(away, room)
		return ok && st.Declared && st.Settings.PIN == "1357"
	}
	if !testkit.WaitFor(10*time.Second, caughtUp) {
		st, _ := c.localState(away, room)
		t.Fatalf("node %s, back for 10 s, has room %s as %+v: it never caught up", c.names[away], room, st)
	}
	t.Logf("node %s, down when %s was declared, has its PIN since it came back", c.names[away], room)
}

// TestClusterWaitForModeratorAcrossNodes: in a room that waits for its moderator, Ada on one
// node and Cy on the owner each hear their node's hold music and not each other; when Cy, on
// the owner, is made the moderator, the census the cascade carries (SIP INFO) lets Ada in on
// her node too: they hear each other, and Ada's music is gone.
func TestClusterWaitForModeratorAcrossNodes(t *testing.T) {
	t.Parallel()
	music := toneDee
	const room = "webinar"
	c := startCluster(t, fmt.Sprintf("[[room]]\nname = %q\nwait_for_moderator = true\nhold_music = %q\n", room, audiotest.ToneWAV(t, 48000, 1, music, 0.15, 1)))
	owner, other, _ := c.nodesOf(room)
	ada := c.mustDial(c.nodes[other].sip, room, "Ada", toneAda)
	cy := c.mustDial(c.nodes[owner].sip, room, "Cy", toneCy)
	waitSteady(t, []*gophone.Phone{ada, cy}, hearing{ada: {music}, cy: {music}}.in)
	if l := ada.HeardLevel(time.Now().Add(-window), time.Now(), toneCy); l > heardAt-downBy {
		t.Errorf("Ada hears Cy at %.1f dBFS before any moderator", l)
	}
	st, _ := c.localState(owner, room)
	cyID := ""
	for _, p := range st.Participants {
		if p.Name == "Cy" {
			cyID = p.ID
		}
	}
	if cyID == "" {
		t.Fatalf("Cy is not in the owner's room: %+v", st.Participants)
	}
	m := now()
	c.nodes[owner].must(200, "PATCH", "/api/rooms/"+room+"/participants/"+cyID, map[string]any{"moderator": true})
	m.waitAfter(t, ada, cy)
	expectGone(t, ada, m, music, "Cy, on the owner, became the moderator")
	expectHeard(t, ada, m, toneCy, "Cy, on the owner, became the moderator")
	expectHeard(t, cy, m, toneAda, "Cy, on the owner, became the moderator")
	if st, _ := c.localState(other, room); len(st.Participants) > 0 {
		for _, p := range st.Participants {
			if p.Waiting {
				t.Errorf("on node %s, %s still waits", c.names[other], p.Name)
			}
		}
	}
}
