package cli

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports work over many items: a bar on a terminal, a log line
// every tenth of the work otherwise (CI logs, pipes).
type progress struct {
	bar   *progressbar.ProgressBar
	total int
	done  int
	what  string
	start time.Time
}

func newProgress(w io.Writer, total int, what string) *progress {
	p := &progress{total: total, what: what, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// add marks n more items done.
func (p *progress) add(n int) {
	before := p.done
	p.done += n
	if p.bar != nil {
		_ = p.bar.Add(n)
		return
	}
	if p.total > 0 && (p.done*10/p.total != before*10/p.total || p.done == p.total) {
		slog.Info(p.what, "done", p.done, "of", p.total, "elapsed", time.Since(p.start).Round(time.Millisecond))
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
