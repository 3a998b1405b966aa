package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"dapo/shared/golden"
)

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"32MB": 32e6, "512KiB": 512 << 10, "1048576": 1 << 20, "2 MiB": 2 << 20, "1.5k": 1536} {
		if got, err := parseByteSize(in); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1MB", "lots", "0", "5TB"} {
		if _, err := parseByteSize(in); err == nil {
			t.Errorf("%q: want an error", in)
		}
	}
}

// TestServeGolden starts 'dapo serve' on a free loopback port, detects one
// golden image over HTTP and stops it by cancelling the context.
func TestServeGolden(t *testing.T) {
	set := golden.Load(t)
	t.Setenv("DAPO_CACHE", t.TempDir())
	ck := importGolden(t, set)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := newServeCmd()
	cmd.SetArgs([]string{"--addr", addr, "--model", set.Dir, "--checkpoint", ck, "--workers", "1", "--token", "t0k"})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	img, err := os.ReadFile(set.Path("image_0.png"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/v1/detect", bytes.NewReader(img))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Authorization", "Bearer t0k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Score   float64 `json:"score"`
		Verdict string  `json:"verdict"`
	}
	err = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if resp.StatusCode != 200 || err != nil || v.Verdict == "" {
		t.Fatalf("detect: %d %v %+v", resp.StatusCode, err, v)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestServeFlagErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no checkpoint": {"--model", "x"},
		"bad max-body":  {"--max-body", "huge", "--model", "x", "--checkpoint", "y"},
		"bad timeout":   {"--timeout", "0s", "--model", "x", "--checkpoint", "y"},
	} {
		cmd := newServeCmd()
		cmd.SetArgs(args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		if err := cmd.ExecuteContext(context.Background()); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
