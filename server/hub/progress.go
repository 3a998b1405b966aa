package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports one file's download: a bar on a terminal, otherwise a
// log line every tenth of the file (CI logs and redirected output stay
// readable).
type progress struct {
	name  string
	w     io.Writer // nil: log mode
	bar   *progressbar.ProgressBar
	log   *slog.Logger
	level slog.Level
	total int64
	step  int64 // log mode: bytes between lines
	next  int64 // log mode: byte count of the next line
}

// unknownSizeStep spaces log lines when the server gives no length.
const unknownSizeStep = 100 << 20

// quietBelow: files smaller than this (configs) get no progress lines.
const quietBelow = 1 << 20

func (d *Downloader) newProgress(name string) *progress {
	p := &progress{name: name, log: d.logger(), level: slog.LevelInfo}
	w := d.Progress
	if w == nil {
		w = os.Stderr
	}
	switch {
	case d.Quiet:
		p.level = slog.LevelDebug
	case isTerminal(w):
		p.w = w
	}
	return p
}

// isTerminal reports whether w is a character device (a terminal, or
// /dev/null where drawing a bar is harmless).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// start is called at each attempt with the expected size (-1 if unknown)
// and the bytes already on disk.
func (p *progress) start(total, done int64) {
	if p.w == nil {
		p.total = total
		p.step = unknownSizeStep
		if total > 0 {
			p.step = max(total/10, 1)
		}
		p.next = (done/p.step + 1) * p.step
		p.log.Log(context.Background(), p.level, "downloading", "file", p.name, "bytes", done, "total", total)
		return
	}
	if p.bar != nil && total == p.total {
		if float64(done) < p.bar.State().CurrentBytes {
			p.bar.Reset()
		}
		p.bar.Set64(done)
		return
	}
	if p.bar != nil {
		p.bar.Exit()
	}
	p.total = total
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(p.name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetSpinnerChangeInterval(0), // no ticker goroutine to leak on failure
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	)
	p.bar.Set64(done)
}

func (p *progress) set(done int64) {
	if p.bar != nil {
		p.bar.Set64(done)
		return
	}
	if p.w != nil || p.step == 0 || done < p.next || (p.total >= 0 && p.total < quietBelow) {
		return
	}
	attrs := []any{"file", p.name, "bytes", done}
	if p.total > 0 {
		attrs = append(attrs, "percent", done*100/p.total, "total", p.total)
	}
	p.log.Log(context.Background(), p.level, "download progress", attrs...)
	p.next = (done/p.step + 1) * p.step
}

// pause erases the bar so that a log line (a retry warning) is not drawn
// over it; the next start draws it again.
func (p *progress) pause() {
	if p.bar != nil {
		p.bar.Clear()
	}
}

// finish completes the bar, or leaves it where it stopped after a failure.
func (p *progress) finish(ok bool) {
	if p.bar == nil {
		return
	}
	if ok {
		p.bar.Finish()
	} else {
		p.bar.Exit()
	}
}
