package hub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// Defaults for the zero Downloader.
const (
	DefaultRetries     = 4
	DefaultBackoff     = time.Second
	DefaultIdleTimeout = time.Minute
	maxBackoff         = 30 * time.Second
)

// Downloader fetches single files over HTTP. The zero value is ready to
// use with the defaults above.
type Downloader struct {
	// Client defaults to NewHTTPClient().
	Client *http.Client
	// Token is sent as "Authorization: Bearer" (a Hugging Face token).
	Token string
	// Retries is how many consecutive failed attempts without progress are
	// retried: 0 means DefaultRetries, negative means none.
	Retries int
	// Backoff is the first retry delay, doubled per failure (0: default).
	Backoff time.Duration
	// IdleTimeout aborts an attempt (then retried) when no byte arrives for
	// that long (0: default).
	IdleTimeout time.Duration
	// Quiet turns the progress bar off and logs progress at debug level.
	Quiet bool
	// Progress receives the bar when it is a terminal; default os.Stderr.
	Progress io.Writer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

func (d *Downloader) client() *http.Client {
	if d.Client != nil {
		return d.Client
	}
	return NewHTTPClient()
}

func (d *Downloader) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// info logs routine news, demoted to debug when Quiet.
func (d *Downloader) info(msg string, args ...any) {
	level := slog.LevelInfo
	if d.Quiet {
		level = slog.LevelDebug
	}
	d.logger().Log(context.Background(), level, msg, args...)
}

func (d *Downloader) retries() int {
	switch {
	case d.Retries < 0:
		return 0
	case d.Retries == 0:
		return DefaultRetries
	}
	return d.Retries
}

func (d *Downloader) idleTimeout() time.Duration {
	if d.IdleTimeout > 0 {
		return d.IdleTimeout
	}
	return DefaultIdleTimeout
}

// backoff is the delay before retry n (1-based): exponential, capped, with
// jitter so that many clients do not retry in step.
func (d *Downloader) backoff(n int) time.Duration {
	b := d.Backoff
	if b <= 0 {
		b = DefaultBackoff
	}
	for i := 1; i < n && b < maxBackoff; i++ {
		b *= 2
	}
	b = min(b, maxBackoff)
	return b/2 + rand.N(b/2+1)
}

// Download fetches url into dest through dest+".part", resuming a part left
// by an earlier run. When wantSHA256 is set the content must match it (a
// mismatching part is deleted). dest appears only once complete and
// verified. On cancellation the part is kept for the next run.
func (d *Downloader) Download(ctx context.Context, url, dest, wantSHA256 string) (FileRecord, error) {
	name := filepath.Base(dest)
	part, err := openPart(dest + ".part")
	if err != nil {
		return FileRecord{}, fmt.Errorf("download %s: %w", name, err)
	}
	defer part.f.Close() // no-op error after commit or discard
	if part.size > 0 {
		d.info("resuming download", "file", name, "bytes", part.size)
	}
	prog := d.newProgress(name)
	err = d.fetch(ctx, url, part, prog)
	prog.finish(err == nil)
	if err != nil {
		return FileRecord{}, fmt.Errorf("download %s: %w", name, err)
	}
	sum := part.sum()
	if wantSHA256 != "" && !strings.EqualFold(sum, wantSHA256) {
		part.discard()
		return FileRecord{}, fmt.Errorf("download %s from %s: sha256 mismatch: got %s, want %s; the partial file was deleted (a proxy or mirror may be serving other content)", name, url, sum, wantSHA256)
	}
	if err := part.commit(dest); err != nil {
		return FileRecord{}, fmt.Errorf("download %s: %w", name, err)
	}
	if err := writeValidator(part.path, ""); err != nil {
		d.logger().Warn("could not remove resume validator", "file", name, "err", err)
	}
	return FileRecord{Name: name, Size: part.size, SHA256: sum, URL: url, Time: time.Now().UTC()}, nil
}

// fetch runs attempts until the part is complete, retrying transient
// failures with backoff. Attempts that made progress reset the count, so a
// flaky link still finishes a large file.
func (d *Downloader) fetch(ctx context.Context, url string, part *partFile, prog *progress) error {
	failures := 0
	for {
		before := part.size
		err := d.attempt(ctx, url, part, prog)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted at %d bytes (run again to resume): %w", part.size, context.Cause(ctx))
		}
		if !isTransient(err) {
			return err
		}
		if part.size > before {
			failures = 0
		}
		failures++
		if failures > d.retries() {
			return fmt.Errorf("giving up after %d failed attempts (run again to resume): %w", failures, err)
		}
		wait := d.backoff(failures)
		prog.pause()
		d.logger().Warn("download interrupted, retrying", "file", filepath.Base(strings.TrimSuffix(part.path, ".part")), "bytes", part.size, "err", err, "retry_in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("interrupted at %d bytes (run again to resume): %w", part.size, context.Cause(ctx))
		case <-t.C:
		}
	}
}
