// Package testkit is confd's one test harness: what every test package and bench/load use to
// start daemons, drive peers and judge what they heard, so that each of those ideas lives in
// one place (livekit's test/lktest and diago's diagotest are the models). It is public, like
// diagotest: an integrator's own tests can start confd, call it with a Go phone or a real
// baresip, and judge the audio with the same tools confd's tests use. Nothing in
// production imports it; layers_test.go holds that, and that no package of the kit imports
// testing: the kit takes a TB (what *testing.T and *testing.B have), so bench/load and
// cmd/mixdemo, which are not tests, can use it without linking the testing package.
//
// The root package holds what every kind of test needs:
//
//   - the daemon: ConfdBinary builds cmd/confd once per test binary (RunMain removes it),
//     StartDaemon and Launch run it with a package's flags, collect its log (LockedBuffer),
//     wait until /readyz answers and stop it, and Daemon.API calls its control API with a
//     token; FreePort and PortBlocks give it ports, each test
//     package its own share of RTP ports (e2e 20000-29999, cmd/confd 32000-35999, e2e/phones
//     36000-39999; baresip takes 40000-49999); Process runs it, and any other program a test
//     runs beside it (baresip, Kamailio), so that it dies with the test binary;
//   - waiting and leaks: WaitFor and Eventually poll a condition, ReturnsWithin bounds a call
//     that must not hang, CheckGoroutines and OpenFDs hold that a leg that ends frees its
//     goroutines and sockets;
//   - hostile input: HostilePaths, the files a reader of a path named from outside must refuse
//     at once (a device that never ends, a FIFO, a directory);
//   - arrival stamps: StampArrivals and ArrivalTime, the kernel's receive time of a datagram.
//
// Its subpackages are one kind of helper each. The peers are named for what they are: a SIP
// phone is a Phone, a WebRTC page a Browser.
//
//   - gophone: the tests' own SIP phone (Phone: a call with a tone out and a Timeline of what
//     came in) and its user agent (UA: any number of dialogs on one socket, for load);
//   - baresip: a real third-party SIP phone (baresip.Phone) as a child process;
//   - pionbrowser: a pion PeerConnection as a browser (Browser), with WHIP/WHEP Join;
//   - chromium: real Chromium on confd's page, driven by playwright (chromium.Join);
//   - audiotest: tones and a frequency detector, the way every test judges audio;
//   - rtptest: a tone sent as RTP packets into a bridge participant, a leg that drops what
//     the room sends (NopLeg), and a loopback Receiver that decodes what confd sends as RTP;
//   - cputime: CPU time of a thread (cgo) or a process, the cost measure of benchmarks.
//
// A test that calls a room from a Go phone and a browser and checks that the phone hears the
// browser:
//
//	func TestPhoneHearsBrowser(t *testing.T) {
//		d := testkit.StartDaemon(t, func() testkit.DaemonConfig {
//			sip, http := testkit.MustFreePort(t), testkit.MustFreePort(t)
//			return testkit.DaemonConfig{
//				Args: []string{"-sip", fmt.Sprintf("127.0.0.1:%d", sip),
//					"-http", fmt.Sprintf("127.0.0.1:%d", http), "-rtp", rtpBlocks.Range()},
//				HTTP: fmt.Sprintf("127.0.0.1:%d", http),
//			}
//		})
//		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//		defer cancel()
//		phone, err := gophone.Call(ctx, gophone.Config{Server: sipAddr, ToneHz: 440}, "demo")
//		if err != nil {
//			t.Fatal(err)
//		}
//		defer phone.Close()
//		page := pionbrowser.Start(t, pionbrowser.Options{ToneHz: 700})
//		if err := page.Join(ctx, d.URL("/whip/demo")); err != nil {
//			t.Fatal(err)
//		}
//		testkit.Eventually(t, 5*time.Second, "the phone does not hear the page", func() bool {
//			return phone.HeardLevel(time.Now().Add(-time.Second), time.Now(), 700) > -30
//		})
//	}
//
// with rtpBlocks the package's share of RTP ports (a PortBlocks) and a TestMain that calls
// RunMain.
package testkit
