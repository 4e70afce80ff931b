package problem

import (
	"errors"
	"fmt"
	"net/http"
)

// TooLarge answers 413 (RFC 9110 section 15.5.14) when err is a body read past its cap (the
// *http.MaxBytesError of http.MaxBytesReader), saying the cap that tripped, and reports whether
// it did; any other error is left to the caller.
func TooLarge(w http.ResponseWriter, err error) bool {
	var tooBig *http.MaxBytesError
	if !errors.As(err, &tooBig) {
		return false
	}
	Write(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", tooBig.Limit))
	return true
}
