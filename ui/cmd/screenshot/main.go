//go:build !js

// Command screenshot saves a PNG of a page in headless Chromium, for the
// README's picture of the inspection app:
//
//	go run ./ui/cmd/screenshot -url http://127.0.0.1:8080/ -out app.png [-width 1280 -height 800] [-wait '#score']
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/chromedp/chromedp"

	"dapo/ui/internal/headless"
)

func main() {
	url := flag.String("url", "", "page to load (required)")
	out := flag.String("out", "screenshot.png", "PNG file to write")
	width := flag.Int("width", 1280, "viewport width")
	height := flag.Int("height", 800, "viewport height")
	wait := flag.String("wait", "#score", "CSS selector to wait for before the shot (empty: none)")
	timeout := flag.Duration("timeout", 2*time.Minute, "give up after this long")
	settle := flag.Duration("settle", 500*time.Millisecond, "pause after the selector appears (canvas drawing, fonts)")
	flag.Parse()
	if *url == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := shoot(*url, *out, *wait, *width, *height, *timeout, *settle); err != nil {
		fmt.Fprintln(os.Stderr, "screenshot:", err)
		os.Exit(1)
	}
}

func shoot(url, out, wait string, width, height int, timeout, settle time.Duration) error {
	path, err := headless.ExecPath()
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "dapo-screenshot-")
	if err != nil {
		return fmt.Errorf("profile dir: %w", err)
	}
	defer os.RemoveAll(profile)
	ctx, cancel := headless.NewContext(context.Background(), path, profile, width, height)
	defer cancel()
	// The first Run starts the browser; the timeout applies to the steps.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		return fmt.Errorf("start Chromium: %w", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, timeout)
	defer tcancel()
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(url)}
	if wait != "" {
		steps = append(steps, chromedp.WaitVisible(chromedp.CSS(wait)))
	}
	steps = append(steps, chromedp.Sleep(settle))
	if err := chromedp.Do(tctx, steps...); err != nil {
		return fmt.Errorf("load %s: %w", url, err)
	}
	png, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Printf("%s: %d bytes (%dx%d)\n", out, len(png), width, height)
	return nil
}
