//go:build !unix

package hub

// lockDir is a no-op where flock is unavailable; concurrent pulls of one
// model are then the user's to avoid.
func lockDir(string) (func(), error) { return func() {}, nil }
