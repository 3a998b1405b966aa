//go:build !unix

package weights

import "os"

// mapFile reads the whole file where mmap is not available (windows, js,
// wasip1). The weights then live on the Go heap and release only drops the
// reference.
func mapFile(path string) (data []byte, release func() error, err error) {
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return data, func() error { return nil }, nil
}
