//go:build !dapocuda

package device

import "dapo/server/compute"

const cudaBuilt = false

func openCUDA(ordinal int, _ Precision) (compute.Backend, func() error, error) {
	return nil, nil, ErrNoCUDABuild
}
