package server

// Limits bound what one request may ask for, so that no request can take
// the server down; every limit exceeded is a 4xx naming it.
type Limits struct {
	MaxBodyBytes    int64 // the whole JSON body, base64 images included
	MaxSide         int   // width and height, pixels
	MaxImages       int   // batch_size × n_iter
	MaxSteps        int
	MaxPromptTokens int // per prompt, after A1111 parsing, in 75-token chunks
}

// DefaultLimits allow every SDXL resolution with room (A1111's own UI
// stops at 2048 and 150 steps).
var DefaultLimits = Limits{
	MaxBodyBytes:    64 << 20,
	MaxSide:         4096,
	MaxImages:       16,
	MaxSteps:        150,
	MaxPromptTokens: 1500,
}
