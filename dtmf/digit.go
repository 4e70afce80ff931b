package dtmf

import "fmt"

// Digit is a DTMF key: one of the characters 0-9, *, #, A, B, C, D. The zero value is no digit.
type Digit byte

// eventDigits maps RFC 4733 section 3.2 event codes 0-15 to keys.
const eventDigits = "0123456789*#ABCD"

// DigitForEvent returns the key of an RFC 4733 event code (0-9 digits, 10 *, 11 #, 12-15 A-D).
func DigitForEvent(code uint8) (Digit, bool) {
	if code >= uint8(len(eventDigits)) {
		return 0, false
	}
	return Digit(eventDigits[code]), true
}

// ParseDigit returns the Digit for a key character; a-d are accepted in lower case.
func ParseDigit(c byte) (Digit, error) {
	if 'a' <= c && c <= 'd' {
		c -= 'a' - 'A'
	}
	if d := Digit(c); d.Valid() {
		return d, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrNotDigit, c)
}

// Valid reports whether d is one of the sixteen keys.
func (d Digit) Valid() bool {
	_, ok := d.event()
	return ok
}

// Event returns d's RFC 4733 event code, or ErrNotDigit.
func (d Digit) Event() (uint8, error) {
	if code, ok := d.event(); ok {
		return code, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrNotDigit, byte(d))
}

func (d Digit) event() (uint8, bool) {
	for i := 0; i < len(eventDigits); i++ {
		if eventDigits[i] == byte(d) && d != 0 {
			return uint8(i), true
		}
	}
	return 0, false
}

// String returns the key as a one-character string.
func (d Digit) String() string {
	if !d.Valid() {
		return fmt.Sprintf("digit(%d)", byte(d))
	}
	return string(rune(d))
}
