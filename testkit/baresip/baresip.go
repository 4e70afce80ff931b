package baresip

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"confd/testkit"
	"confd/testkit/audiotest"
)

// Config describes one baresip instance. Every zero value is a documented default, so
// Config{} is a PCMU phone named "peer" sending a 440 Hz tone.
type Config struct {
	// User is the account's user part. baresip 1.0.0 has no catch-all account: an incoming
	// INVITE reaches this peer only when its request URI names this user. Default "peer".
	User string
	// DisplayName is put in the From header of the calls the peer makes. Default none.
	DisplayName string
	// Codec is the only audio codec the peer offers and accepts (audio_codecs=). Default PCMU.
	Codec Codec
	// ToneHz is the frequency of the sine tone the peer sends as its microphone. Default 440.
	ToneHz float64
	// ToneAmplitude is the tone's peak, 0..1 of full scale. Default 0.25 (-12 dBFS).
	ToneAmplitude float64
	// SourceWAV, when set, is sent instead of the tone. It must be 16-bit PCM at
	// Codec.SampleRate() with Codec.Channels(): baresip's aufile does not convert.
	SourceWAV string
	// ToneDuration is how long the generated tone lasts. baresip hangs up when its source file
	// ends, so this bounds a call's length. Default 60s.
	ToneDuration time.Duration
	// AutoAnswer makes the peer answer incoming calls at once (answermode=auto); otherwise call
	// Accept after WaitIncoming.
	AutoAnswer bool
	// AuthUser and AuthPass are the digest credentials (RFC 3261 section 22) the peer answers
	// a 401 or 407 challenge with. AuthUser defaults to User; no AuthPass, no credentials.
	AuthUser, AuthPass string
	// SIPPort is the UDP and TCP port the peer listens on; baresip also opens TLS on
	// SIPPort+1. Default: a free pair of ports.
	SIPPort int
	// RTPPorts is the UDP port range baresip draws its media ports from, "LOW-HIGH".
	// Default "40000-49999".
	RTPPorts string
	// PTime is the packet time in milliseconds. Default 20.
	PTime int
	// SIPTrace runs baresip with -s, which prints every SIP message to the log.
	SIPTrace bool
	// Program is the baresip executable. Default "baresip" found on PATH.
	Program string
	// StartTimeout bounds how long Start waits for baresip to be ready. Default 10s.
	StartTimeout time.Duration
	// CloseGrace is how long Close lets baresip send its BYEs after the first SIGTERM before it
	// forces the exit. Default 2s (baresip alone may wait 32 s for a transaction).
	CloseGrace time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.User == "" {
		c.User = "peer"
	}
	if c.Codec == "" {
		c.Codec = PCMU
	}
	if c.ToneHz == 0 {
		c.ToneHz = 440
	}
	if c.ToneAmplitude == 0 {
		c.ToneAmplitude = 0.25
	}
	if c.ToneDuration == 0 {
		c.ToneDuration = 60 * time.Second
	}
	if c.AuthUser == "" {
		c.AuthUser = c.User
	}
	if c.RTPPorts == "" {
		c.RTPPorts = "40000-49999"
	}
	if c.PTime == 0 {
		c.PTime = 20
	}
	if c.Program == "" {
		c.Program = "baresip"
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 10 * time.Second
	}
	if c.CloseGrace == 0 {
		c.CloseGrace = 2 * time.Second
	}
	if err := c.Codec.validate(); err != nil {
		return c, err
	}
	if !accountToken.MatchString(c.User) || !accountToken.MatchString(c.AuthUser) {
		return c, fmt.Errorf("%w: user %q / auth user %q (letters, digits, +-_.)", ErrBadConfig, c.User, c.AuthUser)
	}
	if strings.ContainsAny(c.AuthPass+c.DisplayName, ";\"<>\n\r") {
		return c, fmt.Errorf("%w: display name or password holds one of ;\"<> or a newline", ErrBadConfig)
	}
	if c.ToneHz < 0 || c.ToneHz >= float64(c.Codec.SampleRate())/2 || c.ToneAmplitude < 0 || c.ToneAmplitude > 1 {
		return c, fmt.Errorf("%w: tone %g Hz at %g of full scale for %s", ErrBadConfig, c.ToneHz, c.ToneAmplitude, c.Codec)
	}
	return c, nil
}

// accountToken is what this package lets into the SIP URI of baresip's accounts file.
var accountToken = regexp.MustCompile(`^[A-Za-z0-9+_.-]{1,64}$`)

// Option changes how a Phone reports on itself.
type Option func(*Phone)

// WithLogger sets the logger for start, stop and wait failures. Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(b *Phone) { b.log = l } }

// Phone is one running baresip process acting as a SIP phone on loopback.
type Phone struct {
	cfg     Config
	dir     string // private config folder (baresip -f)
	sndDir  string // sndfile's snd_path, never shared: file names have 1 s resolution
	logPath string
	log     *slog.Logger

	proc      *testkit.Process
	ctrl      *control
	closeOnce sync.Once
	closeErr  error
}

// Start runs a baresip instance configured by cfg in a fresh directory of tb.TempDir() and
// waits until it is ready for commands. It skips the test when baresip is not installed (fails
// it when CI is set), fails it when baresip cannot start, and registers a cleanup that closes
// the instance and, if the test failed, prints its log.
func Start(tb testkit.TB, cfg Config, opts ...Option) *Phone {
	tb.Helper()
	Require(tb)
	b, err := start(tb.TempDir(), cfg, opts...)
	if err != nil {
		tb.Fatalf("baresip: start baresip: %v", err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("baresip: close %s: %v", b, err)
		}
		if tb.Failed() {
			tb.Logf("%s log (%s):\n%s", b, b.logPath, b.Log())
		}
	})
	return b
}

// CallTimeout bounds how long Call waits for its call to be established: on loopback a call
// is up in well under a second, but a loaded machine starts baresip's modules slowly.
const CallTimeout = 10 * time.Second

// Call starts a phone of cfg (Start), dials uri with it and waits up to CallTimeout until the
// call is established, failing tb on any error: a phone in a call, as most tests want one.
func Call(tb testkit.TB, cfg Config, uri string) *Phone {
	tb.Helper()
	b := Start(tb, cfg)
	if err := b.Dial(uri); err != nil {
		tb.Fatalf("baresip: %s dials %s: %v", b, uri, err)
	}
	if _, err := b.WaitEstablished(CallTimeout); err != nil {
		tb.Fatalf("baresip: %s calls %s: %v", b, uri, err)
	}
	return b
}

// Require skips tb when baresip is not on PATH, or fails it when the environment
// variable CI is set, where every real-peer test has to run.
func Require(tb testkit.TB) {
	tb.Helper()
	if _, err := exec.LookPath("baresip"); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("baresip: baresip is not installed but CI is set (run scripts/setup.sh test): %v", err)
		}
		tb.Skip("baresip: baresip is not installed; run scripts/setup.sh test to run real-peer tests")
	}
}

// startAttempts bounds the retries when a port chosen as free was taken before baresip bound it.
const startAttempts = 4

func start(dir string, cfg Config, opts ...Option) (*Phone, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath(cfg.Program); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNotInstalled, cfg.Program, err)
	}
	b := &Phone{cfg: cfg, dir: dir, sndDir: filepath.Join(dir, "snd"), logPath: filepath.Join(dir, "baresip.log"), log: slog.Default()}
	for _, o := range opts {
		o(b)
	}
	if err := os.MkdirAll(b.sndDir, 0o755); err != nil {
		return nil, err
	}
	source := cfg.SourceWAV
	if source == "" {
		source = filepath.Join(dir, "tone.wav")
		n := int(cfg.ToneDuration.Seconds() * float64(cfg.Codec.SampleRate()))
		mono := audiotest.Generate(cfg.ToneHz, cfg.ToneAmplitude, cfg.Codec.SampleRate(), n)
		if err := audiotest.WriteWAV(source, cfg.Codec.SampleRate(), cfg.Codec.Channels(), interleave(mono, cfg.Codec.Channels())); err != nil {
			return nil, err
		}
	}
	for attempt := 1; ; attempt++ {
		err := b.launch(source)
		if err == nil {
			b.log.Debug("baresip: baresip ready", "peer", b.String(), "dir", dir)
			return b, nil
		}
		if !errors.Is(err, errPortTaken) || attempt == startAttempts || cfg.SIPPort != 0 {
			return nil, err
		}
		b.log.Debug("baresip: port taken, retrying", "peer", b.String(), "attempt", attempt)
	}
}

var errPortTaken = errors.New("baresip: a port was taken")

// launch writes the config for fresh ports and starts the process once.
func (b *Phone) launch(source string) error {
	sipPort := b.cfg.SIPPort
	var err error
	if sipPort == 0 {
		if sipPort, err = freeSIPPort(); err != nil {
			return err
		}
	}
	ctrlPort, err := freeTCPPort()
	if err != nil {
		return err
	}
	b.cfg.SIPPort = sipPort
	if err := b.writeConfig(source, ctrlPort); err != nil {
		return err
	}
	logFile, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child keeps its own descriptor
	offset, _ := logFile.Seek(0, 2)
	args := []string{"-f", b.dir}
	if b.cfg.SIPTrace {
		args = append(args, "-s")
	}
	cmd := exec.Command(b.cfg.Program, args...)
	cmd.Dir = b.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if b.proc, err = testkit.StartProcess(cmd); err != nil {
		return err
	}

	// baresip prints without buffering; "ready" comes after every module loaded. ctrl_tcp's
	// bind failure does not stop baresip, so it is caught in the log, before a connect that
	// could reach another instance's listener.
	deadline := time.Now().Add(b.cfg.StartTimeout)
	for {
		out := b.logSince(offset)
		taken := strings.Contains(out, "Address already in use")
		switch {
		case taken:
			b.proc.Kill()
			return fmt.Errorf("%w: SIP %d or control %d", errPortTaken, sipPort, ctrlPort)
		case strings.Contains(out, "baresip is ready."):
			b.ctrl, err = dialControl(fmt.Sprintf("127.0.0.1:%d", ctrlPort))
			if err != nil {
				b.proc.Kill()
				return fmt.Errorf("baresip: connect to ctrl_tcp: %w", err)
			}
			return nil
		case !b.proc.Alive():
			return fmt.Errorf("%w before it was ready:\n%s", ErrExited, tail(out, 20))
		case time.Now().After(deadline):
			b.proc.Kill()
			return fmt.Errorf("%w: baresip not ready within %v:\n%s", ErrTimeout, b.cfg.StartTimeout, tail(out, 20))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *Phone) writeConfig(source string, ctrlPort int) error {
	c := b.cfg
	rate, channels := c.Codec.SampleRate(), c.Codec.Channels()
	// The player is a silent aubridge sink, unique per instance; what the peer hears is taken
	// by the sndfile filter instead.
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
call_local_timeout 120
call_max_calls 4
audio_player aubridge,%[2]s
audio_alert aubridge,%[2]s-alert
audio_source aufile,%[3]s
ausrc_srate %[4]d
ausrc_channels %[5]d
auplay_srate %[4]d
auplay_channels %[5]d
audio_level no
rtp_ports %[6]s
rtcp_mux no
jitter_buffer_delay 1-10
module_path /usr/lib/baresip/modules
module g711.so
module g722.so
module opus.so
module aufile.so
module aubridge.so
module sndfile.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%[7]d
snd_path %[8]s
`, c.SIPPort, "sink-"+filepath.Base(b.dir), source, rate, channels, c.RTPPorts, ctrlPort, b.sndDir)
	var account strings.Builder
	if c.DisplayName != "" {
		fmt.Fprintf(&account, "%q ", c.DisplayName)
	}
	answer := "manual"
	if c.AutoAnswer {
		answer = "auto"
	}
	fmt.Fprintf(&account, "<sip:%s@127.0.0.1>;regint=0;answermode=%s;audio_codecs=%s;ptime=%d", c.User, answer, c.Codec, c.PTime)
	if c.AuthPass != "" {
		fmt.Fprintf(&account, ";auth_user=%s;auth_pass=%s", c.AuthUser, c.AuthPass)
	}
	account.WriteByte('\n')
	if err := os.WriteFile(filepath.Join(b.dir, "config"), []byte(config), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, "accounts"), []byte(account.String()), 0o600); err != nil {
		return err
	}
	// An empty contacts file stops baresip from writing its template with example contacts.
	return os.WriteFile(filepath.Join(b.dir, "contacts"), nil, 0o644)
}

// String names the instance by its account and SIP port.
func (b *Phone) String() string {
	return fmt.Sprintf("baresip(%s@127.0.0.1:%d)", b.cfg.User, b.cfg.SIPPort)
}

// URI returns the SIP URI that reaches this peer directly: sip:USER@127.0.0.1:PORT.
func (b *Phone) URI() string {
	return fmt.Sprintf("sip:%s@127.0.0.1:%d", b.cfg.User, b.cfg.SIPPort)
}

// SIPPort returns the UDP and TCP port the peer listens on.
func (b *Phone) SIPPort() int { return b.cfg.SIPPort }

// Config returns the configuration in force, defaults filled in.
func (b *Phone) Config() Config { return b.cfg }

// Dir returns the instance's private directory: config, accounts, tone, log and recordings.
func (b *Phone) Dir() string { return b.dir }

// commandTimeout bounds one control command; baresip answers in well under a millisecond.
const commandTimeout = 5 * time.Second

// Dial calls uri (e.g. "sip:room@127.0.0.1:5060", or with ";transport=tcp"). The call's
// progress is reported by WaitEstablished and WaitClosed.
func (b *Phone) Dial(uri string) error {
	if strings.ContainsAny(uri, " \r\n") || !strings.HasPrefix(uri, "sip:") {
		return fmt.Errorf("%w: dial URI %q", ErrBadConfig, uri)
	}
	_, err := b.ctrl.command("dial", uri, commandTimeout)
	return err
}

// Accept answers the ringing incoming call (for a peer without AutoAnswer).
func (b *Phone) Accept() error {
	_, err := b.ctrl.command("accept", "", commandTimeout)
	return err
}

// Hangup ends the current call with BYE (or CANCEL while it is still ringing).
func (b *Phone) Hangup() error {
	_, err := b.ctrl.command("hangup", "", commandTimeout)
	return err
}

// DTMFGap is the pause between two digits sent by SendDTMF. baresip sends each digit as an
// RFC 4733 telephone-event that lasts until the next key-release; the pause gives every event
// its end packets and the receiver room to tell repeated digits apart.
const DTMFGap = 150 * time.Millisecond

// SendDTMF sends digits (0-9, *, #, A-D) during the established call as RFC 4733
// telephone-events, one digit at a time with DTMFGap between them.
func (b *Phone) SendDTMF(digits string) error {
	for _, d := range digits {
		if !strings.ContainsRune("0123456789*#ABCD", d) {
			return fmt.Errorf("%w: DTMF digit %q", ErrBadConfig, d)
		}
	}
	for i, d := range digits {
		if i > 0 {
			time.Sleep(DTMFGap)
		}
		if _, err := b.ctrl.command("sndcode", string(d), commandTimeout); err != nil {
			return err
		}
	}
	return nil
}

// WaitEvent returns the next event of type typ that no earlier wait returned, waiting up to
// timeout. Events are kept from the start, so a wait after the fact still sees them.
func (b *Phone) WaitEvent(typ string, timeout time.Duration) (Event, error) {
	ev, err := b.ctrl.wait(typ, timeout)
	if err != nil {
		b.log.Debug("baresip: wait failed", "peer", b.String(), "event", typ, "err", err)
		return ev, fmt.Errorf("%s: %w", b, err)
	}
	return ev, nil
}

// WaitIncoming waits for the next incoming call (CALL_INCOMING).
func (b *Phone) WaitIncoming(timeout time.Duration) (Event, error) {
	return b.WaitEvent(EventIncoming, timeout)
}

// WaitEstablished waits for the next call to be answered (CALL_ESTABLISHED).
func (b *Phone) WaitEstablished(timeout time.Duration) (Event, error) {
	return b.WaitEvent(EventEstablished, timeout)
}

// WaitClosed waits for the next call to end (CALL_CLOSED); the event's Param says why.
func (b *Phone) WaitClosed(timeout time.Duration) (Event, error) {
	return b.WaitEvent(EventClosed, timeout)
}

// Events returns every event the peer has reported so far, oldest first.
func (b *Phone) Events() []Event { return b.ctrl.snapshot() }

// ReceivedDTMF returns the digits the peer has received so far (from CALL_DTMF_START
// events), in order.
func (b *Phone) ReceivedDTMF() string {
	var s strings.Builder
	for _, ev := range b.Events() {
		if ev.Type == EventDTMFStart {
			s.WriteString(ev.Param)
		}
	}
	return s.String()
}

// Recorded returns what the peer decoded during its latest call, as mono PCM (the first
// channel) and its sample rate: 8 kHz for G.711, 16 kHz for G.722, 48 kHz for Opus. The
// recording holds only the packets that arrived, back to back: it is not a timeline, so judge
// it by tone levels, not by timing. It is complete once the call has closed.
func (b *Phone) Recorded() (pcm []int16, rate int, err error) {
	return b.recording("-dec.wav")
}

// RecordedSoFar is how much audio the peer has decoded into its latest call's recording until
// now, read from the file's size while baresip writes it (sndfile writes each frame as it
// plays it; the WAV header's sizes are only filled in at the end). A recording begins a moment
// after the call is established, later on a loaded machine, so a test that needs a length of
// audio waits for it (WaitRecorded) rather than for a time.
func (b *Phone) RecordedSoFar() time.Duration {
	files, err := filepath.Glob(filepath.Join(b.sndDir, "dump-*-dec.wav"))
	if err != nil || len(files) == 0 {
		return 0
	}
	sort.Strings(files)
	st, err := os.Stat(files[len(files)-1])
	if err != nil || st.Size() <= wavHeaderBytes {
		return 0
	}
	bytesPerSecond := int64(b.cfg.Codec.SampleRate() * b.cfg.Codec.Channels() * 2)
	return time.Duration((st.Size() - wavHeaderBytes) * int64(time.Second) / bytesPerSecond)
}

// wavHeaderBytes is the size of the canonical WAV header sndfile writes first.
const wavHeaderBytes = 44

// WaitRecorded waits until the peer's latest recording holds at least d of audio
// (RecordedSoFar), or fails after timeout.
func (b *Phone) WaitRecorded(d, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for b.RecordedSoFar() < d {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s recorded %v of audio in %v, want %v", b, b.RecordedSoFar(), timeout, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// RecordedSent returns what the peer encoded and sent during its latest call, like Recorded.
func (b *Phone) RecordedSent() (pcm []int16, rate int, err error) {
	return b.recording("-enc.wav")
}

// RecordedStereo returns what the peer decoded during its latest call as its left and right
// channels (the same samples twice for a mono codec), like Recorded: an Opus peer decodes
// stereo, so a panned voice shows on one side (README "Stereo placement").
func (b *Phone) RecordedStereo() (left, right []int16, rate int, err error) {
	pcm, channels, rate, err := b.recordingRaw("-dec.wav")
	if err != nil {
		return nil, nil, 0, err
	}
	if channels < 2 {
		return pcm, pcm, rate, nil
	}
	left, right = make([]int16, len(pcm)/channels), make([]int16, len(pcm)/channels)
	for i := range left {
		left[i], right[i] = pcm[i*channels], pcm[i*channels+1]
	}
	return left, right, rate, nil
}

func (b *Phone) recording(suffix string) ([]int16, int, error) {
	pcm, channels, rate, err := b.recordingRaw(suffix)
	if err != nil {
		return nil, 0, err
	}
	return audiotest.Mono(pcm, channels), rate, nil
}

// recordingRaw reads the latest recording ending in suffix as it is: interleaved PCM, its
// channel count and rate.
func (b *Phone) recordingRaw(suffix string) ([]int16, int, int, error) {
	files, err := filepath.Glob(filepath.Join(b.sndDir, "dump-*"+suffix))
	if err != nil {
		return nil, 0, 0, err
	}
	if len(files) == 0 {
		return nil, 0, 0, fmt.Errorf("%w: no %s in %s", ErrNoRecording, suffix, b.sndDir)
	}
	sort.Strings(files) // names carry the time the call's audio started
	rate, channels, pcm, err := audiotest.ReadWAV(files[len(files)-1])
	if err != nil {
		return nil, 0, 0, err
	}
	return pcm, channels, rate, nil
}

// Close stops the peer: SIGTERM, which hangs up its calls with BYE; after CloseGrace a
// second SIGTERM, which forces the exit; a second later SIGKILL. It is safe to call twice.
func (b *Phone) Close() error {
	b.closeOnce.Do(func() {
		if b.ctrl != nil {
			defer b.ctrl.close()
		}
		if !b.proc.Alive() {
			return
		}
		_ = b.proc.Signal(syscall.SIGTERM)
		if b.proc.WaitExit(b.cfg.CloseGrace) {
			return
		}
		_ = b.proc.Signal(syscall.SIGTERM)
		if b.proc.WaitExit(time.Second) {
			return
		}
		b.proc.Kill()
		b.closeErr = fmt.Errorf("%s ignored two SIGTERMs and was killed", b)
	})
	return b.closeErr
}

// statusLine matches the call status baresip's menu rewrites in place ("[0:00:03]
// audio=64000/64000 (bit/s)"), which would otherwise fill the log.
var statusLine = regexp.MustCompile(`\[\d+:\d\d:\d\d\] audio=\d+/\d+ \(bit/s\)\s*`)

// Log returns the peer's output so far, without the in-place call status lines and ANSI colours.
func (b *Phone) Log() string { return b.logSince(0) }

var ansiColour = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func (b *Phone) logSince(offset int64) string {
	raw, err := os.ReadFile(b.logPath)
	if err != nil || int64(len(raw)) < offset {
		return ""
	}
	raw = statusLine.ReplaceAll(raw[offset:], nil)
	return string(ansiColour.ReplaceAll(raw, nil))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// interleave repeats each mono sample on every channel.
func interleave(mono []int16, channels int) []int16 {
	if channels == 1 {
		return mono
	}
	out := make([]int16, 0, len(mono)*channels)
	for _, s := range mono {
		for range channels {
			out = append(out, s)
		}
	}
	return out
}
