#!/usr/bin/env bash
# Regenerates the IVR's spoken prompts (*.wav beside this script) with espeak-ng and sox.
# The WAVs are committed, so neither tool is needed to build or test confd; run this only after
# changing a sentence below (scripts/setup.sh prompts installs both tools). Only missing files
# are made, so that the committed ones stay byte for byte: delete the file of a sentence you
# change, or run FORCE=1 ./make.sh to remake them all.
#
# Output: 48 kHz mono 16-bit PCM, the rate confd mixes at, so playing a prompt needs no
# resampling. Silence is trimmed at both ends and the level normalised to -6 dBFS peak.
set -euo pipefail
cd "$(dirname "$0")"

for tool in espeak-ng sox; do
	command -v "$tool" >/dev/null || {
		echo "make.sh: $tool is missing (run scripts/setup.sh prompts)" >&2
		exit 1
	}
done

# name|sentence — the name is the file's base name and the key in prompts.go.
sentences=(
	"welcome|Welcome to the conference. Please enter your meeting number, followed by the pound key."
	"enter-pin|Please enter the PIN, followed by the pound key."
	"invalid-meeting|That meeting number is not valid. Please try again."
	"invalid-pin|That PIN is not correct. Please try again."
	"goodbye|Sorry, goodbye."
	"joining|You are now joining the conference."
	"muted|You are muted."
	"unmuted|You are unmuted."
	"locked|The conference is locked."
	"full|The conference is full."
	"conference-ended|The conference has ended. Goodbye."
	"only-participant|You are currently the only participant."
	"say-name|Please say your name after the tone."
	"has-joined|has joined the conference."
	"has-left|has left the conference."
	"there-are|There are"
	"other-participants|other participants."
	"one-other|There is one other participant."
	"number-1|one"
	"number-2|two"
	"number-3|three"
	"number-4|four"
	"number-5|five"
	"number-6|six"
	"number-7|seven"
	"number-8|eight"
	"number-9|nine"
	"number-10|ten"
	"number-11|eleven"
	"number-12|twelve"
	"number-13|thirteen"
	"number-14|fourteen"
	"number-15|fifteen"
	"number-16|sixteen"
	"number-17|seventeen"
	"number-18|eighteen"
	"number-19|nineteen"
	"number-20|twenty"
	"more-than-twenty|more than twenty"
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for entry in "${sentences[@]}"; do
	name=${entry%%|*}
	text=${entry#*|}
	if [[ -e "$name.wav" && -z "${FORCE:-}" ]]; then
		continue # kept as committed; FORCE=1 remakes every file
	fi
	espeak-ng -v en-us -s 160 -w "$tmp/$name.wav" "$text"
	# silence 1 0.02 1%: drop leading silence; reverse twice to drop the trailing silence too;
	# pad 0.1 0.2 leaves a short natural gap before and after the words.
	sox "$tmp/$name.wav" -r 48000 -c 1 -b 16 -e signed-integer "$name.wav" \
		silence 1 0.02 1% reverse silence 1 0.02 1% reverse \
		norm -6 pad 0.1 0.2 rate -v 48000
	echo "$name.wav: $(soxi -D "$name.wav") s"
done

# The tone after "say-name": 250 ms at 1 kHz at -6 dBFS, then 50 ms of silence.
if [[ ! -e beep.wav || -n "${FORCE:-}" ]]; then
	sox -n -r 48000 -c 1 -b 16 -e signed-integer beep.wav synth 0.25 sine 1000 gain -6 pad 0 0.05
fi
