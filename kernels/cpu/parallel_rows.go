package cpu

import "runtime"

// rowWork is the number of row elements a task must cover before another
// goroutine pays for itself on an elementwise pass (a few µs of work).
const rowWork = 1 << 14

// parallelRows runs fn over [0, rows) in contiguous chunks spread across
// the cores; each row costs about cols elements of work. Small passes run
// on the caller alone.
func parallelRows(rows, cols int, fn func(r0, r1 int)) {
	per := max(1, rowWork/max(cols, 1)) // rows per task at least
	workers := min(runtime.GOMAXPROCS(0), ceilDiv(rows, per))
	if workers <= 1 {
		fn(0, rows)
		return
	}
	// Four tasks per worker, so a core busy elsewhere leaves little
	// imbalance behind.
	tasks := min(4*workers, ceilDiv(rows, per))
	chunk := ceilDiv(rows, tasks)
	parallelFor(workers, ceilDiv(rows, chunk), func(_, t int) {
		fn(t*chunk, min((t+1)*chunk, rows))
	})
}
