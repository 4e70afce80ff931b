package load

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"confd/codec"
	"confd/testkit/pionbrowser"
)

// joinWebRTC connects leg l as a WHEP listener (confd's POST /whep/ROOM) to room at base
// (confd's HTTP URL) and starts reading what it hears. The listener is the test kit's browser
// as a plain player: Opus only, no interceptors (a listener needs neither reports nor NACKs
// here, and each one would be work on the generator's per-packet path), host candidates on
// 127.0.0.1 only; it reads its first track into l's receiver.
func joinWebRTC(ctx context.Context, base, room string, l *leg) error {
	if l.recv.sampled {
		dec, err := codec.NewDecoder(codec.Opus)
		if err != nil {
			return err
		}
		l.recv.dec = dec
	}
	var first sync.Once
	b, err := pionbrowser.New(pionbrowser.Options{OpusOnly: true, Direction: webrtc.RTPTransceiverDirectionRecvonly,
		OnTrack: func(tr *webrtc.TrackRemote) {
			read := false
			first.Do(func() { read = true })
			if !read {
				return
			}
			l.recv.pt = uint8(tr.PayloadType())
			buf := make([]byte, 1500)
			for {
				n, _, err := tr.Read(buf)
				if err != nil {
					return
				}
				l.recv.packet(buf[:n], time.Now())
			}
		}})
	if err != nil {
		return err
	}
	l.rtc, l.codec = b, codec.Opus
	// The POST and the connection, as a page's, each within 30 s.
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := b.Join(ctx, fmt.Sprintf("%s/whep/%s?name=load%d", base, room, l.index)); err != nil {
		return fmt.Errorf("load: WHEP listener %d: %w", l.index, err)
	}
	return nil
}
