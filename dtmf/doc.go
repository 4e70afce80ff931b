// Package dtmf carries DTMF digits for confd's SIP legs and IVR: RFC 4733 telephone-events in
// RTP (Receiver, Sender, Event), SIP INFO bodies (ParseInfo, FormatDTMFRelay), and a digit
// Collector for entering a meeting number and PIN.
//
// Decisions, in one place:
//   - An RFC 4733 event is identified by its RTP timestamp (section 2.5.1.2), not by the marker
//     bit, which is lost with the event's first packet. Each event is reported exactly once:
//     when its first end packet arrives (the end is sent three times, section 2.5.1.4), with
//     the final duration. If every end packet is lost, the digit is still reported once — when
//     the next event begins, or when Expire finds no packet of it for ReceiverConfig.EndTimeout
//     (or at Flush, on hang-up) — with the longest duration seen and Ended false. Reporting at
//     the end rather than at the start gives the IVR the duration, and a long press is one digit.
//   - Only events 0-15 (0-9, *, #, A-D; section 3.2) are digits. Other events (flash, tones)
//     end an open digit and are counted, never reported.
//   - An event longer than 0xFFFF ticks arrives in segments with new timestamps and no marker
//     (section 2.5.1.3); a segment that continues an open digit of the same key is folded into
//     it.
//   - Nothing here owns a goroutine or a timer: time is an argument. Receiver.Push, Expire and
//     Sender.Next allocate nothing; their state is sized once.
package dtmf
