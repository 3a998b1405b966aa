//go:build !js

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// workerdVersion is the npm package the test runs the Worker with
// (docs: the team's toolchain notes).
const workerdVersion = "1.20261117.1"

// requireEnv makes a missing node/npm a failure instead of a skip
// (`make test` sets it).
const requireEnv = "DAPO_REQUIRE_BROWSER"

// cacheDir is dapo's download cache, as server/hub.CacheDir defines it:
// $DAPO_CACHE, else $XDG_CACHE_HOME/dapo, else ~/.cache/dapo.
func cacheDir() (string, error) {
	if d := os.Getenv("DAPO_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "dapo"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cache dir: set DAPO_CACHE or XDG_CACHE_HOME: %w", err)
	}
	return filepath.Join(home, ".cache", "dapo"), nil
}

// skipOrFail skips, or fails where the environment requires the test.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf(format+" (required: %s=1)", append(args, requireEnv)...)
	}
	t.Skipf(format+": skipping the Worker test", args...)
}

// findWorkerd returns the native workerd binary of an npm prefix, or "".
// The platform package holds the binary itself; running it directly (not
// through the npm shim) leaves one process to stop.
func findWorkerd(prefix string) string {
	if b, err := os.ReadFile(filepath.Join(prefix, "node_modules", "workerd", "package.json")); err != nil ||
		!bytes.Contains(b, []byte(`"version": "`+workerdVersion+`"`)) {
		return ""
	}
	bins, _ := filepath.Glob(filepath.Join(prefix, "node_modules", "@cloudflare", "workerd-*", "bin", "workerd"))
	for _, b := range bins {
		if st, err := os.Stat(b); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return b
		}
	}
	return ""
}

// ensureWorkerd returns the workerd binary, installing the pinned npm
// package into the cache when it is not there yet (a second run downloads
// nothing). The install goes to a fresh folder that is renamed into place,
// so concurrent runs never see or corrupt a half-written one.
func ensureWorkerd(t *testing.T) string {
	t.Helper()
	cache, err := cacheDir()
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(cache, "npm", "workerd-"+workerdVersion)
	if bin := findWorkerd(prefix); bin != "" {
		t.Logf("workerd %s: cached at %s", workerdVersion, bin)
		return bin
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		skipOrFail(t, "workerd is not cached at %s and npm is not on PATH", prefix)
	}
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFail(t, "workerd is not cached at %s and node is not on PATH", prefix)
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(prefix), ".install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp's 0700 would hide it from other users
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", tmp, "--no-audit", "--no-fund",
		"--save-exact", "workerd@"+workerdVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install workerd@%s: %v\n%s", workerdVersion, err, out)
	}
	if err := os.Rename(tmp, prefix); err != nil && findWorkerd(prefix) == "" {
		t.Fatalf("install workerd into the cache: %v (remove %s to reinstall)", err, prefix)
	}
	bin := findWorkerd(prefix)
	if bin == "" {
		t.Fatalf("npm installed workerd@%s into %s, but no native binary was found", workerdVersion, prefix)
	}
	t.Logf("workerd %s: installed into %s in %v", workerdVersion, prefix, time.Since(start).Round(time.Millisecond))
	return bin
}

// startWorkerd serves dir's workerd.capnp on a port the system picks and
// returns its base URL; the process is stopped when the test ends. workerd
// reports the port on its control descriptor once it listens, so there is
// neither a port race nor polling.
func startWorkerd(t *testing.T, bin, dir string) string {
	t.Helper()
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer ctlR.Close()
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "serve", "--experimental", "workerd.capnp",
		"--socket-addr", "http=127.0.0.1:0", "--control-fd", "3")
	cmd.Dir = dir
	cmd.ExtraFiles = []*os.File{ctlW} // fd 3
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start workerd: %v", err)
	}
	ctlW.Close() // the child's copy stays open; EOF now means it exited
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("workerd output:\n%s", logs.String())
		}
	})

	port := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(ctlR)
		for sc.Scan() {
			var msg struct {
				Event, Socket string
				Port          int
			}
			if json.Unmarshal(sc.Bytes(), &msg) == nil && msg.Event == "listen" && msg.Socket == "http" {
				port <- msg.Port
				return
			}
		}
		close(port)
	}()
	select {
	case p, ok := <-port:
		if !ok {
			<-exited
			t.Fatalf("workerd exited before listening: %v\n%s", cmd.ProcessState, strings.TrimSpace(logs.String()))
		}
		return fmt.Sprintf("http://127.0.0.1:%d", p)
	case <-time.After(60 * time.Second):
		t.Fatalf("workerd did not listen within 60s:\n%s", logs.String())
	}
	return ""
}

// syncBuffer collects workerd's output, which its pipes write while the
// test may read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
