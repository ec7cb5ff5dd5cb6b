package server

import "embed"

// webFiles is the web page at /: plain HTML and JavaScript, no build step.
//
//go:embed web
var webFiles embed.FS
