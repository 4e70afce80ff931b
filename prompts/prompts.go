// Package prompts holds the dial-in IVR's spoken prompts, embedded in the binary as 48 kHz mono
// 16-bit PCM: the rate the bridge mixes at, so a prompt is played without resampling.
//
// The WAV files are made by make.sh (espeak-ng and sox) and committed, so building and testing
// confd needs neither tool. Each prompt is parsed once, on first use, and shared: callers read
// the returned samples and never write to them.
package prompts

import (
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Rate is the sample rate, in Hz, of every prompt; prompts are mono.
const Rate = 48000

// The prompts' names, one per sentence of make.sh.
const (
	// Welcome says "Welcome to the conference. Please enter your meeting number, followed by
	// the pound key."
	Welcome = "welcome"
	// EnterPIN says "Please enter the PIN, followed by the pound key."
	EnterPIN = "enter-pin"
	// InvalidMeeting says "That meeting number is not valid. Please try again."
	InvalidMeeting = "invalid-meeting"
	// InvalidPIN says "That PIN is not correct. Please try again."
	InvalidPIN = "invalid-pin"
	// Goodbye says "Sorry, goodbye."
	Goodbye = "goodbye"
	// Joining says "You are now joining the conference."
	Joining = "joining"
	// Muted says "You are muted."
	Muted = "muted"
	// Unmuted says "You are unmuted."
	Unmuted = "unmuted"
	// Locked says "The conference is locked."
	Locked = "locked"
	// Full says "The conference is full."
	Full = "full"
	// ConferenceEnded says "The conference has ended. Goodbye." (the last moderator left a
	// room that ends with its moderator).
	ConferenceEnded = "conference-ended"
	// OnlyParticipant says "You are currently the only participant."
	OnlyParticipant = "only-participant"

	// Announcements of who comes and goes (bridge/announce.go).
	//
	// SayName says "Please say your name after the tone."; Beep is that tone (1 kHz, 250 ms).
	SayName = "say-name"
	Beep    = "beep"
	// HasJoined and HasLeft follow a caller's recorded name: "has joined the conference.",
	// "has left the conference."
	HasJoined = "has-joined"
	HasLeft   = "has-left"
	// The participant count: OneOther says "There is one other participant."; more are
	// ThereAre ("There are"), Number(n) and OtherParticipants ("other participants.").
	OneOther          = "one-other"
	ThereAre          = "there-are"
	OtherParticipants = "other-participants"
	// MoreThanTwenty says "more than twenty", the Number of anything above MaxNumber.
	MoreThanTwenty = "more-than-twenty"
)

// MaxNumber is the largest number with a prompt of its own ("number-1" … "number-20").
const MaxNumber = 20

// Number returns the name of the prompt that says n: "one" to "twenty", and MoreThanTwenty
// above. n below 1 has none ("").
func Number(n int) string {
	switch {
	case n < 1:
		return ""
	case n > MaxNumber:
		return MoreThanTwenty
	}
	return "number-" + strconv.Itoa(n)
}

// ErrUnknownPrompt is returned by Get for a name that has no embedded WAV file.
var ErrUnknownPrompt = errors.New("prompts: unknown prompt")

// ErrBadPromptFile is returned when an embedded file is not 48 kHz mono 16-bit PCM WAV, which
// means make.sh was changed or bypassed.
var ErrBadPromptFile = errors.New("prompts: embedded file is not 48 kHz mono 16-bit PCM WAV")

//go:embed *.wav
var files embed.FS

var parsed = sync.OnceValues(parseAll)

// Get returns the named prompt as 48 kHz mono samples. The slice is shared by every caller and
// must not be modified.
func Get(name string) ([]int16, error) {
	all, err := parsed()
	if err != nil {
		return nil, err
	}
	pcm, ok := all[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPrompt, name)
	}
	return pcm, nil
}

// Names returns the names of all embedded prompts, sorted.
func Names() []string {
	entries, _ := files.ReadDir(".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".wav"))
	}
	sort.Strings(names)
	return names
}

func parseAll() (map[string][]int16, error) {
	all := make(map[string][]int16)
	for _, name := range Names() {
		b, err := files.ReadFile(name + ".wav")
		if err != nil {
			return nil, err
		}
		pcm, err := decode(b)
		if err != nil {
			return nil, fmt.Errorf("%s.wav: %w", name, err)
		}
		all[name] = pcm
	}
	return all, nil
}

// decode walks the RIFF chunks of b and accepts only the one format make.sh writes.
func decode(b []byte) ([]int16, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, ErrBadPromptFile
	}
	formatOK := false
	for pos := 12; pos+8 <= len(b); {
		id, size := string(b[pos:pos+4]), int(binary.LittleEndian.Uint32(b[pos+4:]))
		body := b[pos+8:]
		if size > len(body) {
			return nil, ErrBadPromptFile
		}
		body = body[:size]
		switch id {
		case "fmt ":
			formatOK = len(body) >= 16 &&
				binary.LittleEndian.Uint16(body[0:]) == 1 && // PCM
				binary.LittleEndian.Uint16(body[2:]) == 1 && // mono
				binary.LittleEndian.Uint32(body[4:]) == Rate &&
				binary.LittleEndian.Uint16(body[14:]) == 16
		case "data":
			if !formatOK {
				return nil, ErrBadPromptFile
			}
			pcm := make([]int16, len(body)/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return pcm, nil
		}
		pos += 8 + size + size&1
	}
	return nil, ErrBadPromptFile
}
