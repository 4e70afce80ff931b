package phones

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/testkit"
	"confd/testkit/gophone"
)

func TestMain(m *testing.M) { testkit.RunMain(m) }

// confd is one daemon process started by a test, on loopback ports of its own.
type confd struct {
	*testkit.Daemon
	t    *testing.T
	sip  netip.AddrPort
	base string // http://127.0.0.1:PORT
}

// apiToken is the API token of every confd these tests start.
const apiToken = "e2e-phones-token"

// startConfd runs confd with its own SIP, HTTP and RTP ports and, when toml is not empty, that
// config file; it waits for /readyz and kills the process when the test ends (printing its log
// when the test failed). A launch that loses a port race is retried.
func startConfd(t *testing.T, toml string) *confd {
	t.Helper()
	return startConfdOrdered(t, toml, false)
}

// startConfdOrdered is startConfd with -config placed before the other flags, or after them
// when configLast is set. The tests put it first: config.Parse finds it only there (its
// pre-pass stops at the first flag it does not know), so after -sip the file is silently
// ignored; TestConfigFileAfterOtherFlags holds that bug.
func startConfdOrdered(t *testing.T, toml string, configLast bool) *confd {
	t.Helper()
	var config []string
	if toml != "" {
		path := filepath.Join(t.TempDir(), "confd.toml")
		if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
		config = []string{"-config", path}
	}
	var err error
	for range 3 {
		var d *confd
		if d, err = launch(t, config, configLast, listenAt{}); err == nil {
			return d
		}
	}
	t.Fatalf("confd did not become ready: %v", err)
	return nil
}

// listenAt is where a daemon listens: its SIP and HTTP ports on ip; the zero value is free
// ports on 127.0.0.1.
type listenAt struct {
	ip        netip.Addr
	sip, http int
}

// rtpBlocks are this package's share of RTP ports: blocks of 100 in 36000-39999, apart from the
// e2e package's (20000-29999), cmd/confd's tests (32000-35999) and baresip's (40000-49999). The
// daemons of this process take the 40 blocks in turn, so that those running at once never share
// one (random blocks did, with a cluster's three nodes and the parallel tests: a node then found
// no free port).
var rtpBlocks = testkit.PortBlocks{Low: 36000, Size: 100, Count: 40}

// launch starts one confd listening at at, killed when the test ends (printing its log when the
// test failed). The error of a daemon that did not become ready holds its log.
func launch(t *testing.T, config []string, configLast bool, at listenAt) (*confd, error) {
	if !at.ip.IsValid() {
		at = listenAt{ip: netip.AddrFrom4([4]byte{127, 0, 0, 1}), sip: testkit.MustFreePort(t), http: testkit.MustFreePort(t)}
	}
	httpAddr := netip.AddrPortFrom(at.ip, uint16(at.http))
	d := &confd{t: t, sip: netip.AddrPortFrom(at.ip, uint16(at.sip)), base: "http://" + httpAddr.String()}
	flags := []string{"-sip", d.sip.String(), "-http", httpAddr.String(), "-rtp", rtpBlocks.Range(), "-public-ip", at.ip.String()}
	args := slices.Concat(config, flags)
	if configLast {
		args = slices.Concat(flags, config)
	}
	var err error
	d.Daemon, err = testkit.Launch(testkit.Confd(t), testkit.DaemonConfig{
		Args: args,
		HTTP: httpAddr.String(),
		// The API token comes by the environment, kept out of ps (docs/SPEC.md "Start").
		Env: []string{"CONFD_API_TOKEN=" + apiToken},
		Dir: t.TempDir(),
	})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		d.Stop(0)
		if t.Failed() {
			t.Logf("confd log:\n%s", d.Log())
		}
	})
	return d, nil
}

// sipURI returns the URI that dials room on this daemon, for baresip.
func (d *confd) sipURI(room string) string { return fmt.Sprintf("sip:%s@%s", room, d.sip) }

// api is testkit's Daemon.API with these tests' API token: it sends a request to the control
// API with body as JSON and returns the status and the response body, failing the test when
// no answer comes.
func (d *confd) api(method, path string, body any) (int, []byte) {
	d.t.Helper()
	status, out, err := d.API(method, path, apiToken, body)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, out
}

// must is api that fails the test unless the status is want.
func (d *confd) must(want int, method, path string, body any) []byte {
	d.t.Helper()
	status, out := d.api(method, path, body)
	if status != want {
		d.t.Fatalf("%s %s: %d %s, want %d", method, path, status, bytes.TrimSpace(out), want)
	}
	return out
}

// refused sends a request the API must refuse with status want and a JSON {"error": …}
// (docs/SPEC.md "Errors").
func (d *confd) refused(want int, method, path string, body any) {
	d.t.Helper()
	status, out := d.api(method, path, body)
	var e struct{ Error string }
	if status != want || json.Unmarshal(out, &e) != nil || e.Error == "" {
		d.t.Errorf("%s %s %v: %d %s, want %d with a JSON error", method, path, body, status, bytes.TrimSpace(out), want)
	}
}

// room returns GET /api/rooms/ROOM, or ok false on 404.
func (d *confd) room(name string) (st bridge.RoomState, ok bool) {
	d.t.Helper()
	status, out := d.api("GET", "/api/rooms/"+name, nil)
	if status == http.StatusNotFound {
		return st, false
	}
	if status != http.StatusOK {
		d.t.Fatalf("GET /api/rooms/%s: %d %s", name, status, out)
	}
	if err := json.Unmarshal(out, &st); err != nil {
		d.t.Fatalf("GET /api/rooms/%s: %v in %s", name, err, out)
	}
	return st, true
}

// waitTalking polls the room until every name in names is a participant that is talking
// (the mixer treats its tone as a voice), and returns their ids in the order of names.
func (d *confd) waitTalking(room string, names ...string) []string {
	d.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := d.room(room)
		ids := make([]string, len(names))
		talking := 0
		for i, n := range names {
			for _, p := range st.Participants {
				if p.Name == n {
					ids[i] = p.ID
					if p.Talking {
						talking++
					}
				}
			}
		}
		if talking == len(names) {
			return ids
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("room %s: want %v all talking, have %+v", room, names, st.Participants)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// state returns GET /api/rooms/ROOM, failing the test when the room is gone.
func (d *confd) state(room string) bridge.RoomState {
	d.t.Helper()
	st, ok := d.room(room)
	if !ok {
		d.t.Fatalf("room %s is gone", room)
	}
	return st
}

// participant returns the participant with id in the room's state, or ok false.
func participant(st bridge.RoomState, id string) (bridge.ParticipantState, bool) {
	for _, p := range st.Participants {
		if p.ID == id {
			return p, true
		}
	}
	return bridge.ParticipantState{}, false
}

// call dials a Phone named name with tone hz over codec c into room and ends it with the test.
func (d *confd) call(room, name string, hz float64, c codec.Codec) *gophone.Phone {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := gophone.Call(ctx, gophone.Config{Server: d.sip, User: strings.ToLower(name), Name: name, ToneHz: hz, Codec: c}, room)
	if err != nil {
		d.t.Fatalf("%s calls %s: %v", name, room, err)
	}
	d.t.Cleanup(func() { _ = p.Close() })
	return p
}

// party is one Phone to call into a room: its name, tone and codec.
type party struct {
	name string
	hz   float64
	c    codec.Codec
}

// Tones every test uses, one per person.
var (
	partyAda = party{"Ada", toneAda, codec.PCMU}
	partyBob = party{"Bob", toneBob, codec.Opus}
	partyCy  = party{"Cy", toneCy, codec.PCMA}
	partyDee = party{"Dee", toneDee, codec.Opus}
	partyEve = party{"Eve", toneEve, codec.PCMU}
)

// over returns the party with another codec.
func (p party) over(c codec.Codec) party { p.c = c; return p }

// talkers calls each party into room, waits until the mixer treats every one as talking, and
// lets a window of steady audio pass so that "before" windows are measured on it. It returns
// the phones and their participant ids in the order of parties.
func (d *confd) talkers(room string, parties ...party) ([]*gophone.Phone, []string) {
	d.t.Helper()
	phones, names := d.callParties(room, parties)
	ids := d.waitTalking(room, names...)
	time.Sleep(window)
	waitSteady(d.t, phones, eachHearsTheOthers(phones, parties).in)
	return phones, ids
}

// callParties calls each party into room and returns the phones and the parties' names, in the
// order of parties.
func (d *confd) callParties(room string, parties []party) ([]*gophone.Phone, []string) {
	d.t.Helper()
	phones := make([]*gophone.Phone, len(parties))
	names := make([]string, len(parties))
	for i, p := range parties {
		phones[i] = d.call(room, p.name, p.hz, p.c)
		names[i] = p.name
	}
	return phones, names
}

// eachHearsTheOthers is the hearing of a room of parties on phones (in the same order): each
// phone hears every other party's tone.
func eachHearsTheOthers(phones []*gophone.Phone, parties []party) hearing {
	everyone := hearing{}
	for i, p := range phones {
		for j, q := range parties {
			if i != j {
				everyone[p] = append(everyone[p], q.hz)
			}
		}
	}
	return everyone
}
