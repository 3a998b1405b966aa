//go:build !js

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dapo/shared/bundle/bundletest"
	"dapo/wasm/scoreapi"
)

// chromiumPage loads the module and the ViT-L/14@518 bundle like a page
// would and scores it once (warm-up).
const chromiumPage = `<!doctype html><meta charset="utf-8"><script src="wasm_exec.js"></script>
<script>
globalThis.onDapoReady = async () => {
  try {
    const buf = await (await fetch("vit.safetensors")).arrayBuffer();
    globalThis.vit = new Uint8Array(buf);
    globalThis.first = dapo.score(globalThis.vit);
    globalThis.loaded = "ok";
  } catch (e) { globalThis.loaded = "error: " + e; }
};
const go = new Go();
WebAssembly.instantiateStreaming(fetch("scorer.wasm"), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((e) => { globalThis.loaded = "error: " + e; });
</script>`

// timeCalls times n dapo.score calls in the page; it returns ms per call.
func timeCalls(n int) string {
	return fmt.Sprintf(`(() => {
		const t0 = performance.now();
		for (let i = 0; i < %d; i++) dapo.score(globalThis.vit);
		return (performance.now() - t0) / %d;
	})()`, n, n)
}

// chromiumScorer builds the module, serves it with the bundle and opens it
// in headless Chromium; it skips without Chromium (fails with
// DAPO_REQUIRE_BROWSER=1). It returns the browser context and the native
// score of the bundle.
func chromiumScorer(tb testing.TB) (context.Context, float64) {
	tb.Helper()
	browser := os.Getenv("DAPO_CHROMIUM")
	if browser == "" {
		browser = "/usr/bin/chromium"
	}
	if _, err := os.Stat(browser); err != nil {
		if os.Getenv("DAPO_REQUIRE_BROWSER") == "1" {
			tb.Fatalf("DAPO_REQUIRE_BROWSER=1 but no Chromium at %s: %v", browser, err)
		}
		tb.Skipf("no Chromium at %s (set DAPO_CHROMIUM): skipping the browser benchmark", browser)
	}
	dir := tb.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "scorer.wasm"), ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOEXPERIMENT=")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("GOOS=js GOARCH=wasm go build: %v\n%s", err, out)
	}
	vit, err := bundletest.RandomBundle(1, bundletest.ViTL518)
	if err != nil {
		tb.Fatal(err)
	}
	want, err := scoreapi.Score(vit, scoreapi.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	wasmExec, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		tb.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"index.html": []byte(chromiumPage), "wasm_exec.js": wasmExec, "vit.safetensors": vit,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	ts := httptest.NewServer(http.FileServer(http.Dir(dir)))
	tb.Cleanup(ts.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(tb.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/index.html")); err != nil {
		tb.Fatalf("open the page: %v", err)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Poll[string](`globalThis.loaded`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(2*time.Minute)))
	if err != nil || loaded != "ok" {
		tb.Fatalf("load the module and bundle in Chromium: %q, %v", loaded, err)
	}
	return ctx, want.Score
}

// TestChromium scores the ViT-L/14@518 bundle in Chromium, checks the
// score against the native one and reports the time per dapo.score call.
func TestChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the Chromium benchmark")
	}
	ctx, want := chromiumScorer(t)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`globalThis.first.score`))
	if err != nil || got != want {
		t.Fatalf("Chromium score %v (%v), native %v", got, err, want)
	}
	// V8 compiles wasm with a baseline tier first and optimises hot
	// functions in the background: time the first calls apart.
	const warm, n = 3, 5
	first, err := chromedp.Run(ctx, chromedp.Evaluate[float64](timeCalls(warm)))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](timeCalls(n)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ViT-L/14@518 bundle in Chromium (%s): %.1f ms per dapo.score call (mean of %d, after %d at %.1f ms)",
		strings.TrimSpace(chromiumVersion(ctx)), ms, n, warm, first)
}

// BenchmarkChromiumScore reports ms per dapo.score call on the
// ViT-L/14@518 bundle in headless Chromium (b.N calls in the page).
func BenchmarkChromiumScore(b *testing.B) {
	ctx, _ := chromiumScorer(b)
	b.ResetTimer()
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](timeCalls(b.N)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ms, "ms/score")
}

func chromiumVersion(ctx context.Context) string {
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent.match(/Chrom(e|ium)\/[\d.]+/)?.[0] || navigator.userAgent`))
	if err != nil {
		return "unknown version"
	}
	return v
}
