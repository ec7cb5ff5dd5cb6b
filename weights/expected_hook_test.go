package weights

import "testing"

// ExpectedTensorsOf is the model's dry-run listing of a configuration
// (sdxl.ExpectedTensors). Package sdxl imports this one, so the external
// test package sets it (listing_test.go) for these internal tests.
var ExpectedTensorsOf func(Config) (Expected, error)

// expectedOf lists what a checkpoint of cfg must hold.
func expectedOf(t testing.TB, cfg Config) Expected {
	t.Helper()
	if ExpectedTensorsOf == nil {
		t.Fatal("ExpectedTensorsOf is not set")
	}
	want, err := ExpectedTensorsOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return want
}
