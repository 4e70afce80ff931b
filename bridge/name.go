package bridge

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the most bytes of a participant's display name: a longer name is cut, on a
// character boundary, where it joins (displayName).
const MaxNameLen = 128

// displayName is the one rule for a participant's display name (ParticipantInfo.Name), applied
// where every participant joins whatever its leg: a SIP From display name (RFC 3261 section
// 20.20) or a WHIP ?name= is the caller's text, and it reaches the API's JSON, the events,
// webhooks and the logs. Invalid UTF-8 is replaced by U+FFFD, control characters (a CRLF
// that would start a log line of its own, an escape sequence), Unicode's bidi controls (an
// override or isolate, U+202A-U+202E, U+2066-U+2069, that shows another name than the one
// written, or reorders the text after it; red team, issue 14) and runs of white space become
// one space, the ends are trimmed, and the name is cut to MaxNameLen bytes without splitting a
// character.
func displayName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
	}), " ")
	if len(s) > MaxNameLen {
		cut := MaxNameLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimRight(s[:cut], " ")
	}
	return s
}
