package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gosdxl/gosdxl/weights"
)

// runPull downloads the default checkpoint (or --url to --out), or with
// --verify rehashes an existing one against the server's SHA-256.
func runPull(args []string) error {
	fs := flag.NewFlagSet("gen pull", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	url := fs.String("url", weights.DefaultCheckpointURL, "file to download")
	dest := fs.String("out", defaultModel, "where to put it")
	verify := fs.Bool("verify", false, "rehash an existing file and compare it with the server's SHA-256")
	var quiet bool
	fs.BoolVar(&quiet, "quiet", false, "no progress bar")
	fs.BoolVar(&quiet, "q", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprintf(stdout, "Usage: gen pull [--out FILE] [--url URL] [--verify] [-q]\n\n"+
				"Downloads Animagine XL 4.0 (6.9 GB) to %s, resuming an interrupted\n"+
				"download and checking its SHA-256 and that it is a safetensors file.\n\n", defaultModel)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		}
		return usagef("pull: %s", flagError(err, spellings(args)))
	}
	if fs.NArg() > 0 {
		return usagef("pull: unexpected argument %q", fs.Arg(0))
	}
	if *verify {
		bar := newProgressBar(stderr, "verifying", quiet)
		bar.unit, bar.scale = "MB", 1<<20
		hash, err := weights.Verify(context.Background(), nil, *url, *dest, bar.update)
		bar.finish()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: intact (sha256 %s)\n", *dest, hash)
		return nil
	}
	if _, err := os.Stat(*dest); err == nil {
		fmt.Fprintf(stdout, "%s is already there (gen pull --verify checks it)\n", *dest)
		return nil
	}
	return pull(*url, *dest, quiet)
}

// pull downloads url to dest with a progress bar. Failures say where the
// file can be put by hand.
func pull(url, dest string, quiet bool) error {
	fmt.Fprintf(stderr, "downloading %s\n     to %s\n", url, dest)
	bar := newProgressBar(stderr, filepath.Base(dest), quiet)
	bar.unit, bar.scale, bar.resumed = "MB", 1<<20, true
	hash, err := weights.Download(context.Background(), nil, url, dest, bar.update)
	bar.finish()
	if err != nil {
		return fmt.Errorf("%v\n(to install the checkpoint by hand, download %s and save it as %s)", err, url, dest)
	}
	if err := weights.RecordSHA256(dest, hash); err != nil {
		fmt.Fprintf(stderr, "gen: warning: cannot cache the model hash: %v\n", err)
	}
	fmt.Fprintf(stderr, "done: %s (sha256 %s)\n", dest, hash)
	return nil
}
