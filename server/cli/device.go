package cli

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"dapo/server/compute"
	"dapo/server/device"
)

// deviceFlags are --device and --precision, shared by the commands that
// run the towers (train, test, detect, features, serve).
type deviceFlags struct {
	device    string
	precision string
}

// addDeviceFlags registers --device and --precision on cmd. One line per
// command: `dev := addDeviceFlags(cmd)`, then `be, release, err :=
// dev.open()` in RunE.
func addDeviceFlags(cmd *cobra.Command) *deviceFlags {
	f := &deviceFlags{}
	help := "compute device: cpu, cuda or cuda:N"
	if !device.CUDABuilt() {
		help += " (this build has no CUDA support: build with -tags dapocuda)"
	}
	cmd.Flags().StringVar(&f.device, "device", "cpu", help)
	cmd.Flags().StringVar(&f.precision, "precision", "f32", "GPU matrix products: f32 (exact, golden parity) or tf32 (tensor cores)")
	// Check the flags before the command reads any input or model, so a
	// build without CUDA says so at once.
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		s, _, err := f.spec()
		if err != nil {
			return err
		}
		if s.Kind == device.CUDA && !device.CUDABuilt() {
			return fmt.Errorf("--device %s: %w", s, device.ErrNoCUDABuild)
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
	return f
}

// spec parses --device and --precision without opening anything, so that
// commands can reject bad values before loading models.
func (f *deviceFlags) spec() (device.Spec, device.Precision, error) {
	s, err := device.Parse(f.device)
	if err != nil {
		return device.Spec{}, "", fmt.Errorf("--device: %w", err)
	}
	p, err := device.ParsePrecision(f.precision)
	if err != nil {
		return device.Spec{}, "", fmt.Errorf("--precision: %w", err)
	}
	return s, p, nil
}

// open returns the selected backend and its release function. Asking for
// CUDA in a default build fails with device.ErrNoCUDABuild; in a CUDA build
// without a usable GPU the error begins "no CUDA driver/GPU found".
func (f *deviceFlags) open() (compute.Backend, func() error, error) {
	s, p, err := f.spec()
	if err != nil {
		return nil, nil, err
	}
	be, release, err := device.Open(s, p)
	if err != nil {
		return nil, nil, fmt.Errorf("--device %s: %w", s, err)
	}
	slog.Info("compute device", "device", be.Name())
	return be, release, nil
}
