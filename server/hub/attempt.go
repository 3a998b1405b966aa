package hub

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// attempt makes one GET, continuing the part from its current size.
func (d *Downloader) attempt(ctx context.Context, url string, part *partFile, prog *progress) error {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "dapo-weights/1")
	// Byte offsets must be those of the file itself, not of a gzip stream.
	req.Header.Set("Accept-Encoding", "identity")
	if d.Token != "" {
		req.Header.Set("Authorization", "Bearer "+d.Token)
	}
	offset := part.size
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		if v := readValidator(part.path); v != "" {
			req.Header.Set("If-Range", v)
		}
	}

	// The watchdog cancels the attempt when nothing arrives for idle; it
	// covers the wait for headers too, whatever the client's timeouts.
	idle := d.idleTimeout()
	watchdog := time.AfterFunc(idle, cancel)
	defer watchdog.Stop()
	stalled := func(err error) error {
		if ctx.Err() == nil && actx.Err() != nil {
			return transient(fmt.Errorf("stalled: no data for %s at byte %d", idle, part.size))
		}
		return transient(err)
	}

	resp, err := d.client().Do(req)
	if err != nil {
		return stalled(err)
	}
	defer resp.Body.Close()

	total, err := d.startResponse(resp, part, offset)
	if err != nil || total == doneAlready {
		return err
	}
	prog.start(total, part.size)
	buf := make([]byte, 256<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			watchdog.Reset(idle)
			if _, err := part.Write(buf[:n]); err != nil {
				return fmt.Errorf("write %s: %w", part.path, err)
			}
			prog.set(part.size)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return stalled(fmt.Errorf("read at byte %d: %w", part.size, rerr))
		}
	}
	if total >= 0 && part.size != total {
		return transient(fmt.Errorf("connection closed at byte %d of %d", part.size, total))
	}
	return nil
}

// doneAlready is startResponse's answer when the part is already whole.
const doneAlready = -2

// startResponse checks the status against the range asked for and returns
// the full file size (-1 if unknown), restarting the part when the server
// sends the whole file.
func (d *Downloader) startResponse(resp *http.Response, part *partFile, offset int64) (int64, error) {
	switch resp.StatusCode {
	case http.StatusOK:
		if offset > 0 {
			// Range ignored, or If-Range said the file changed upstream.
			d.info("server sent the whole file; starting over", "file", part.path, "had_bytes", offset)
			if err := part.reset(); err != nil {
				return 0, err
			}
		}
		if err := writeValidator(part.path, validatorOf(resp)); err != nil {
			return 0, err
		}
		return resp.ContentLength, nil
	case http.StatusPartialContent:
		first, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || first != offset {
			if err := part.reset(); err != nil {
				return 0, err
			}
			return 0, transient(fmt.Errorf("asked for bytes %d-, server sent range %q; starting over", offset, resp.Header.Get("Content-Range")))
		}
		return total, nil
	case http.StatusRequestedRangeNotSatisfiable:
		_, total, _ := parseContentRange(resp.Header.Get("Content-Range"))
		if offset > 0 && total == offset {
			return doneAlready, nil // interrupted between the last byte and the rename
		}
		d.info("server refused to resume; starting over", "file", part.path, "had_bytes", offset, "size", total)
		if err := part.reset(); err != nil {
			return 0, err
		}
		return 0, transient(fmt.Errorf("range %d- not satisfiable (file size %d)", offset, total))
	}
	return 0, statusError(resp)
}

// validatorOf picks what If-Range may carry: a strong ETag, else
// Last-Modified.
func validatorOf(resp *http.Response) string {
	if e := resp.Header.Get("ETag"); e != "" && !strings.HasPrefix(e, "W/") {
		return e
	}
	return resp.Header.Get("Last-Modified")
}

// parseContentRange reads "bytes first-last/total" or "bytes */total";
// first is -1 in the second form and total is -1 when given as "*".
func parseContentRange(s string) (first, total int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, size, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	total = -1
	if size != "*" {
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		total = n
	}
	if rng == "*" {
		return -1, total, true
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, 0, false
	}
	return first, total, true
}
