//go:build !unix

package hub

import "os"

// mapFile reads the whole file where mmap is unavailable.
func mapFile(path string) ([]byte, func(), error) {
	b, err := os.ReadFile(path)
	return b, func() {}, err
}
