// Package packaging builds and checks confd's Debian package. The package itself is made by
// build-deb.sh (`make deb`) from the files beside it: confd.service (the hardened systemd unit),
// low-port.conf (the drop-in for a port below 1024) and debian/ (the maintainer scripts). This
// Go package holds only its test, which installs the package on the test machine, runs confd
// as the package's user with the packaged config, calls it, and removes and purges it.
package packaging
