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
