//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// The app only runs in a browser; natively this package builds so that the
// component code is compiled and vetted with everything else.
func main() {
	fmt.Fprintln(os.Stderr, "the inspection app runs in the browser: build it with scripts/build-ui.sh")
	os.Exit(2)
}
