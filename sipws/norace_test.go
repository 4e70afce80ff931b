//go:build !race

package sipws

const raceEnabled = false
