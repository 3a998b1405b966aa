//go:build !js

// Package headless starts headless Chromium through chromedp for the app's
// browser tests and the screenshot tool, with the flags that keep it quiet
// on a closed network (docs: toolchain notes).
package headless

import (
	"context"
	"errors"
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// ErrNoBrowser is returned by ExecPath when no Chromium is installed.
var ErrNoBrowser = errors.New("no Chromium found (set DAPO_CHROMIUM, or apt-get install chromium)")

// ExecPath finds Chromium: $DAPO_CHROMIUM, /usr/bin/chromium, or the usual
// names on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv("DAPO_CHROMIUM"); p != "" {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// NewContext starts a browser context: headless, no sandbox, no GPU, no
// background networking, a fresh profile in userDataDir and a window of
// width×height. Cancel it to stop the browser.
func NewContext(parent context.Context, execPath, userDataDir string, width, height int) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(userDataDir),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	return ctx, func() { cancelCtx(); cancelAlloc() }
}
