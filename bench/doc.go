// Package bench measures confd's media engine the way a room uses it: simulated clients send
// real encoded RTP payloads into jitter buffers (confd/jitter), one mixer (confd/mixer) ticks
// every 20 ms, and every leg's RTP header is written by the bridge's RTPSender, all in simulated
// time so that runs are repeatable and nothing sleeps.
//
// The package holds the harness; the figures come from its benchmarks (go test -run '^$' -bench
// . ./bench/), and README.md explains each metric and records what this machine measured:
//
//   - BenchmarkRoom: a room of N = 10 to 5000, K = 3 talkers, the other participants silent
//     listeners (Opus DTX or near-silent PCMU). The room's fixed cost per tick and the marginal
//     cost of one more listener (bar: ≤ 5 µs per tick), 0 allocations per tick and per packet.
//   - BenchmarkRoomDistinct: the same rooms with every mix distinct, so every listener needs its
//     own encode (bar: ≤ 200 µs per participant per tick).
//   - BenchmarkLatency: the pipeline's added latency (jitter buffer, tick wait, codec delay)
//     measured on decoded audio, on a clean network and with 30 ms of jitter (bar: clean median
//     ≤ 20 ms).
//
// Clients are replayed from Recordings made once with the real encoders, so the measured loop
// pays only for what the bridge does. Costs are reported both as wall time and as the CPU time
// of the benchmark's thread (testkit/cputime.Thread): on a shared machine whose cores are
// oversubscribed the wall time includes waiting for a core, the CPU time does not.
package bench
