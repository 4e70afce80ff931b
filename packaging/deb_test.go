package packaging

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"confd/testkit"
	"confd/testkit/gophone"
)

// The package's paths, as build-deb.sh and the maintainer scripts place them.
const (
	pkgBinary = "/usr/bin/confd"
	pkgConfig = "/etc/confd/confd.toml"
	pkgToken  = "/etc/confd/api-token"
	pkgUnit   = "/lib/systemd/system/confd.service"
	pkgState  = "/var/lib/confd"
	policyRcD = "/usr/sbin/policy-rc.d"
)

// leftoverRoots are where a package's files, links and state could remain after a purge.
var leftoverRoots = []string{"/etc", "/lib/systemd", "/usr/lib/systemd", "/usr/bin", "/usr/share/doc", "/var/lib", "/run"}

// TestDebianPackage builds the package with `make deb`, installs it with dpkg -i, checks its
// files, its user and its unit (systemd-analyze verify), starts /usr/bin/confd as the confd
// user with the packaged config on loopback ports, places a SIP call and sees it in the API
// with the packaged token, then removes (dpkg -r: config and data stay) and purges (dpkg -P:
// nothing stays but the confd user, which Debian policy keeps) the package.
//
// It changes the machine, so it runs only as root, only where no confd package is installed,
// bounded by five minutes, and purges the package and stops confd in its cleanup whatever
// happened. Where systemd runs, a policy-rc.d forbids the maintainer scripts to start the
// service on its default ports while the test holds the package.
func TestDebianPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and installs a Debian package")
	}
	if os.Geteuid() != 0 {
		t.Skip("installing a package needs root")
	}
	for _, tool := range []string{"dpkg", "dpkg-deb", "dpkg-query", "setpriv", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: not a Debian machine set up by scripts/setup.sh", tool)
		}
	}
	if status := dpkgStatus(); status != "" {
		t.Skipf("a confd package is already on this machine (%q): the test leaves it alone", status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	top, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	before := namesWithConfd()

	// make deb, into a directory of the test's own.
	out := t.TempDir()
	text := mustRun(t, ctx, "make", "-C", top, "--no-print-directory", "deb", "DEBDIR="+out, "BIN="+filepath.Join(out, "confd"))
	debs, _ := filepath.Glob(filepath.Join(out, "confd_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make deb made %v; output:\n%s", debs, text)
	}

	if _, err := os.Stat("/run/systemd/system"); err == nil {
		if _, err := os.Lstat(policyRcD); err == nil {
			t.Skip("systemd runs here and " + policyRcD + " exists: installing would start confd on its default ports")
		}
		if err := os.WriteFile(policyRcD, []byte("#!/bin/sh\n# confd's package test: no service starts\nexit 101\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(policyRcD) })
	}
	t.Cleanup(func() {
		if dpkgStatus() != "" {
			if out, err := exec.Command("dpkg", "--purge", "confd").CombinedOutput(); err != nil {
				t.Errorf("cleanup: dpkg -P confd: %v\n%s", err, out)
			}
		}
	})
	mustRun(t, ctx, "dpkg", "--install", debs[0])

	t.Run("installed", func(t *testing.T) { checkInstalled(t, ctx, top) })
	t.Run("systemd-analyze verify", func(t *testing.T) { checkUnit(t, ctx) })
	t.Run("runs and takes a call", func(t *testing.T) { checkRuns(t, ctx) })

	// dpkg -r: the program and the unit go; the conffile, the token and the data stay.
	mustRun(t, ctx, "dpkg", "--remove", "confd")
	if s := dpkgStatus(); s != "deinstall ok config-files" {
		t.Errorf("after dpkg -r the status is %q, want config-files", s)
	}
	for _, gone := range []string{pkgBinary, pkgUnit} {
		if _, err := os.Lstat(gone); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("after dpkg -r %s is still there (%v)", gone, err)
		}
	}
	for _, kept := range []string{pkgConfig, pkgToken, pkgState} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("after dpkg -r %s should stay until purge: %v", kept, err)
		}
	}

	// dpkg -P: nothing named confd is left but the system user (Debian policy keeps it).
	mustRun(t, ctx, "dpkg", "--purge", "confd")
	if s := dpkgStatus(); s != "" {
		t.Errorf("after dpkg -P the status is %q, want none", s)
	}
	for name := range namesWithConfd() {
		if !before[name] {
			t.Errorf("after dpkg -P %s is left", name)
		}
	}
	if err := exec.Command("dpkg-statoverride", "--list", pkgConfig).Run(); err == nil {
		t.Errorf("after dpkg -P the stat override of %s is left", pkgConfig)
	}
	if _, err := user.Lookup("confd"); err != nil {
		t.Errorf("the confd system user should stay after purge (Debian policy): %v", err)
	} else {
		t.Log("after purge only the confd system user is left, as Debian policy wants")
	}
}

// checkInstalled checks what dpkg -i and the postinst made.
func checkInstalled(t *testing.T, ctx context.Context, top string) {
	u, err := user.Lookup("confd")
	if err != nil {
		t.Fatalf("no confd user after install: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if uid >= 1000 {
		t.Errorf("confd's uid is %d: not a system user", uid)
	}
	for _, c := range []struct {
		path     string
		uid, gid int
		mode     fs.FileMode
	}{
		{pkgBinary, 0, 0, 0o755},
		{pkgConfig, 0, gid, 0o640},
		{pkgToken, 0, gid, 0o640},
		{pkgState, uid, gid, fs.ModeDir | 0o750},
		{pkgState + "/recordings", uid, gid, fs.ModeDir | 0o750},
		{pkgUnit, 0, 0, 0o644},
	} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Error(err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != c.uid || int(st.Gid) != c.gid || fi.Mode() != c.mode {
			t.Errorf("%s: owner %d:%d mode %v, want %d:%d %v", c.path, st.Uid, st.Gid, fi.Mode(), c.uid, c.gid, c.mode)
		}
	}
	conffiles := mustRun(t, ctx, "dpkg-query", "-W", "-f=${Conffiles}", "confd")
	if !strings.Contains(conffiles, pkgConfig) {
		t.Errorf("%s is not a conffile: %q", pkgConfig, conffiles)
	}
	libs := mustRun(t, ctx, "ldd", pkgBinary)
	if strings.Contains(libs, "opusfile") || !strings.Contains(libs, "libopus.so.0") {
		t.Errorf("the binary should link libopus0 and not libopusfile:\n%s", libs)
	}
	if !strings.Contains(libs, "libspeexdsp.so.1") {
		t.Errorf("the binary should link libspeexdsp1 (the package Depends on it):\n%s", libs)
	}
	version := mustRun(t, ctx, pkgBinary, "-version")
	commit := "" // outside a git checkout the commit is "unknown", and only that line is checked
	if out, err := exec.CommandContext(ctx, "git", "-C", top, "rev-parse", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	if !strings.Contains(version, "commit "+commit) || !strings.Contains(version, "libopus") || !strings.Contains(version, "go go1.") {
		t.Errorf("confd -version says\n%s\nwant the commit %s, the Go and the libopus versions", version, commit)
	}
}

// checkUnit runs systemd-analyze verify on the installed unit. It needs no running systemd,
// but some containers cannot run it at all; then only this check is skipped.
func checkUnit(t *testing.T, ctx context.Context) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed (scripts/setup.sh test installs systemd): unit not verified")
	}
	out, err := exec.CommandContext(ctx, "systemd-analyze", "verify", pkgUnit).CombinedOutput()
	if err != nil {
		if !strings.Contains(string(out), "confd.service") {
			t.Skipf("systemd-analyze cannot run in this container (%v): unit not verified\n%s", err, out)
		}
		t.Fatalf("systemd-analyze verify %s: %v\n%s", pkgUnit, err, out)
	}
	// The hardening, as systemd rates it: "OK" is an exposure below 2 on its 0-10 scale.
	out, err = exec.CommandContext(ctx, "systemd-analyze", "security", "--offline=true", pkgUnit).CombinedOutput()
	if err != nil {
		t.Logf("systemd-analyze security --offline cannot run here (%v): exposure not rated", err)
		return
	}
	i := bytes.LastIndex(out, []byte("Overall exposure level"))
	if i < 0 || !bytes.Contains(out[i:], []byte(" OK")) {
		t.Errorf("the unit's hardening is not rated OK:\n%s", out)
	}
}

// checkRuns starts the packaged binary as the confd user with the packaged config, on loopback
// ports, calls a room and finds the call in the API with the packaged token.
func checkRuns(t *testing.T, ctx context.Context) {
	sipPort, httpPort := testkit.MustFreePort(t), testkit.MustFreePort(t)
	// -config first: internal/config.Parse finds it only there (e2e/phones' doc).
	cmd := exec.Command("setpriv", "--reuid=confd", "--regid=confd", "--init-groups", "--inh-caps=-all", "--",
		pkgBinary, "-config", pkgConfig,
		"-sip", fmt.Sprintf("127.0.0.1:%d", sipPort), "-http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"-rtp", "45000-45099", "-public-ip", "127.0.0.1")
	cmd.Dir = pkgState
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		logMu   sync.Mutex
		log     strings.Builder
		started = make(chan struct{})
		exited  = make(chan error, 1)
	)
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if strings.Contains(sc.Text(), "confd started") {
				once.Do(func() { close(started) })
			}
		}
		exited <- cmd.Wait()
	}()
	logText := func() string { logMu.Lock(); defer logMu.Unlock(); return log.String() }
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case <-started:
	case err := <-exited:
		t.Fatalf("confd exited at start (%v):\n%s", err, logText())
	case <-ctx.Done():
		t.Fatalf("confd did not start:\n%s", logText())
	}

	// It runs as the confd user, holding no capability.
	u, _ := user.Lookup("confd")
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "Uid:" && f[1] != u.Uid {
			t.Errorf("confd runs as uid %s, want confd's %s", f[1], u.Uid)
		}
		if len(f) >= 2 && f[0] == "CapEff:" && strings.Trim(f[1], "0") != "" {
			t.Errorf("confd holds capabilities %s", f[1])
		}
	}

	tokenFile, err := os.ReadFile(pkgToken)
	if err != nil {
		t.Fatal(err)
	}
	token, _, _ := strings.Cut(string(tokenFile), "\n")
	if len(token) < 32 {
		t.Fatalf("the packaged API token %q is too short", token)
	}
	if strings.Contains(logText(), token) {
		t.Errorf("confd logged the API token from the file:\n%s", logText())
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	if code, _ := get(ctx, base+"/api/rooms", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /api/rooms without the token: %d, want 401", code)
	}

	phone, err := gophone.Call(ctx, gophone.Config{Server: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sipPort)), User: "pkgtest"}, "packaged")
	if err != nil {
		t.Fatalf("call: %v\n%s", err, logText())
	}
	defer phone.Close()
	// The participant joins once the ACK is handled; the API shows it soon after.
	var room struct {
		Participants []struct {
			Name string `json:"name"`
			Kind string `json:"kind"`
		} `json:"participants"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(ctx, base+"/api/rooms/packaged", token)
		if code == http.StatusOK && json.Unmarshal(body, &room) == nil && len(room.Participants) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/rooms/packaged: %d %s; want one participant\n%s", code, body, logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if p := room.Participants[0]; p.Name != "pkgtest" {
		t.Errorf("participant %+v, want the phone pkgtest", p)
	}
	if err := phone.Hangup(ctx); err != nil {
		t.Errorf("hang up: %v", err)
	}

	// SIGTERM: the room is empty, so the drain ends at once and confd exits 0.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("confd exited with %v after SIGTERM:\n%s", err, logText())
		}
		exited <- err // for the cleanup
	case <-ctx.Done():
		t.Fatalf("confd did not stop after SIGTERM:\n%s", logText())
	}
}

// dpkgStatus is dpkg's status of the confd package ("install ok installed", "deinstall ok
// config-files"), or "" when dpkg knows no such package.
func dpkgStatus() string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "confd").Output()
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(out))
	if s == "unknown ok not-installed" {
		return ""
	}
	return s
}

// namesWithConfd lists every path under leftoverRoots whose name contains "confd".
func namesWithConfd() map[string]bool {
	names := map[string]bool{}
	for _, root := range leftoverRoots {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if strings.Contains(d.Name(), "confd") {
				names[path] = true
			}
			return nil
		})
	}
	return names
}

// mustRun runs a command, bounded by ctx, and returns its standard output; it fails the test
// with the command's whole output when it fails.
func mustRun(t *testing.T, ctx context.Context, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func get(ctx context.Context, url, token string) (int, []byte) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, []byte(b.String())
}
