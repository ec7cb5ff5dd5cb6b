package main

import "testing"

// --trim-when-idle is off unless given, and reaches the server's Config.
func TestServeTrimWhenIdleFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{{nil, false}, {[]string{"--trim-when-idle"}, true}, {[]string{"--trim-when-idle=false"}, false}} {
		o, err := parseServeOptions(c.args)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if o.trimWhenIdle != c.want {
			t.Errorf("%v: trimWhenIdle %v, want %v", c.args, o.trimWhenIdle, c.want)
		}
	}
}
