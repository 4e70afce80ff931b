package testkit

// TB is the part of testing.TB that the kit uses. *testing.T and *testing.B satisfy it, and so
// can a harness outside "go test" (bench/load runs the kit from a command): the kit's non-test
// code never imports testing, so none of it drags the testing package into such a build.
type TB interface {
	Helper()
	Name() string
	TempDir() string
	Cleanup(func())
	Failed() bool
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Skip(args ...any)
}

// must returns what get returns, and fails the test with get's error: the kit's MustX and
// test-failing variants of a function that returns an error.
func must[T any](t TB, get func() (T, error)) T {
	t.Helper()
	v, err := get()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return v
}
