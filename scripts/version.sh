#!/bin/sh
# Prints confd's version for `make build` and `make deb`, in a form Debian orders correctly
# (deb-version(7)):
#   a tag vX.Y.Z on HEAD          X.Y.Z
#   commits after a tag vX.Y.Z    X.Y.Z+git<N>.<commit>
#   no tag                        0~git<commit time, UTC YYYYMMDDHHMMSS>.<commit>
# with ".dirty" appended when the tree has uncommitted changes, and 0~unknown outside git.
cd "$(dirname "$0")/.." || exit 1
if ! commit=$(git rev-parse --short=12 HEAD 2>/dev/null); then
	echo 0~unknown
	exit 0
fi
dirty=""
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then dirty=.dirty; fi
if tag=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null); then
	n=$(git rev-list --count "$tag"..HEAD)
	v=${tag#v}
	if [ "$n" -gt 0 ]; then v="$v+git$n.$commit"; fi
	echo "$v$dirty"
	exit 0
fi
when=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)
echo "0~git$when.$commit$dirty"
