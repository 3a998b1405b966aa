package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"dapo/server/device"
)

func TestDeviceFlags(t *testing.T) {
	cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
	dev := addDeviceFlags(cmd)
	if err := cmd.ParseFlags([]string{"--device", "cpu"}); err != nil {
		t.Fatal(err)
	}
	be, release, err := dev.open()
	if err != nil || be.Name() != "cpu" {
		t.Fatal(be, err)
	}
	release()

	if err := cmd.ParseFlags([]string{"--device", "cuda:1"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = dev.open()
	if !device.CUDABuilt() {
		if !errors.Is(err, device.ErrNoCUDABuild) || !strings.Contains(err.Error(), "go build -tags dapocuda") {
			t.Fatalf("default build, --device cuda:1: %v", err)
		}
	} else if err == nil {
		t.Log("cuda:1 opened (a machine with two GPUs)")
	}

	if err := cmd.ParseFlags([]string{"--device", "tpu"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := dev.open(); err == nil || !strings.Contains(err.Error(), "--device") {
		t.Fatalf("--device tpu: %v", err)
	}
}

// TestDeviceCommands: every command that runs the towers takes --device
// and, in a build without CUDA, refuses a GPU with the rebuild hint before
// loading anything (train included: it runs its step on the device).
func TestDeviceCommands(t *testing.T) {
	for _, args := range [][]string{
		{"detect", "x.png", "--checkpoint", "c", "--model", "m", "--out", t.TempDir()},
		{"features", "x.png", "--checkpoint", "c", "--model", "m", "--out", t.TempDir()},
		{"serve", "--checkpoint", "c", "--model", "m"},
		{"test", "--format", "mvtec", "--root", "r", "--checkpoint", "c", "--model", "m", "--out", t.TempDir()},
		{"calibrate", "--format", "mvtec", "--root", "r", "--checkpoint", "c", "--model", "m"},
		{"train", "--format", "mvtec", "--root", "r", "--model", "m", "--out", t.TempDir()},
		{"bench", "vision", "--config", "tiny"},
		{"embed", "--model", "m", "--text", "a"},
		{"bench", "text", "--config", "tiny"},
	} {
		msg, err := runCLI(t, append(args, "--device", "cuda:0")...)
		if err == nil {
			t.Errorf("%s --device cuda:0 succeeded:\n%s", args[0], msg)
			continue
		}
		want := "built without CUDA support"
		if device.CUDABuilt() {
			want = "--device" // no GPU here, or no model "m"
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s --device cuda:0: %v, want it to mention %q", args[0], err, want)
		}
	}
}

// TestFullTapesNeedsDevice: --full-tapes only changes the device step, so
// a CPU run refuses it instead of silently ignoring it.
func TestFullTapesNeedsDevice(t *testing.T) {
	msg, err := runCLI(t, "train", "--format", "mvtec", "--root", "r", "--model", "m", "--out", t.TempDir(), "--full-tapes")
	if err == nil || !strings.Contains(err.Error(), "--full-tapes needs --device cuda") {
		t.Fatalf("train --full-tapes on the CPU: %v\n%s", err, msg)
	}
}
