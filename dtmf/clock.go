package dtmf

import "fmt"

// eventClockRate is the one rule for a telephone-event clock, the Sender's and the Receiver's:
// zero means 8000 Hz, the rate every phone offers (RFC 4733 section 7.1.1); 16000 and 48000 are
// offered beside wideband audio (telephone-event/48000 beside Opus, as browsers do, RFC 4733
// section 2.1 lets the events take the audio's clock); any other is ErrClockRate.
func eventClockRate(rate int) (int, error) {
	switch rate {
	case 0:
		return 8000, nil
	case 8000, 16000, 48000:
		return rate, nil
	}
	return rate, fmt.Errorf("%w: %d", ErrClockRate, rate)
}
