// Package buildinfo says which confd this is: its version, the commit it was built from, and
// the Go and libopus versions inside, for `confd -version`, the start-up log and bug reports.
//
// The version is set at link time by `make build` (-ldflags "-X confd/internal/buildinfo.version=…",
// from scripts/version.sh); a plain `go build` falls back to the module version Go stamps from
// the VCS. The commit comes from the build info Go records (vcs.revision, vcs.modified), so it
// cannot disagree with the tree that was compiled; where Go records none (a git worktree, whose
// .git is a file Go does not follow, or -buildvcs=false) it is the one `make build` links in.
package buildinfo

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"

	"confd/codec"
)

// version and commit are set by the linker (-X); empty means "not built by make".
var version, commit string

// Info is what Get reports.
type Info struct {
	Version   string // "0~git20261206074900.df50f85e1a2b", or Go's module version, or "devel"
	Commit    string // full vcs.revision, or "unknown" (built outside a git tree or with -buildvcs=false)
	Modified  bool   // the tree had uncommitted changes (vcs.modified)
	Time      string // commit time (vcs.time, RFC 3339), or ""
	GoVersion string // runtime.Version()
	Opus      string // libopus's own version string (opus_get_version_string), e.g. "libopus 1.3.1"
}

// Get returns the build's description.
func Get() Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version(), Opus: codec.OpusVersion()}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Commit = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			case "vcs.time":
				i.Time = s.Value
			}
		}
	}
	i.Version = cmp.Or(i.Version, "devel")
	i.Commit = cmp.Or(i.Commit, "unknown")
	return i
}

// String is the text of `confd -version`: one "name value" pair a line.
func (i Info) String() string {
	commit := i.Commit
	if i.Modified {
		commit += " (modified)"
	}
	if i.Time != "" {
		commit += " " + i.Time
	}
	return fmt.Sprintf("confd %s\ncommit %s\ngo %s %s/%s\n%s\n", i.Version, commit, i.GoVersion, runtime.GOOS, runtime.GOARCH, i.Opus)
}
