package hub

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// partFile is the <dest>.part being written, with a running sha256 of its
// content so that a resumed download is still hashed end to end.
type partFile struct {
	path string
	f    *os.File
	h    hash.Hash
	size int64
}

// openPart opens (or creates) path and hashes what an earlier, interrupted
// run left there.
func openPart(path string) (*partFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	p := &partFile{path: path, f: f, h: sha256.New()}
	n, err := io.Copy(p.h, f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read partial download %s: %w", path, err)
	}
	p.size = n
	return p, nil
}

func (p *partFile) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	p.h.Write(b[:n])
	p.size += int64(n)
	return n, err
}

// reset discards the content, for servers that answer a range request
// with the whole file.
func (p *partFile) reset() error {
	if err := p.f.Truncate(0); err != nil {
		return err
	}
	if _, err := p.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	p.h.Reset()
	p.size = 0
	return nil
}

func (p *partFile) sum() string { return hex.EncodeToString(p.h.Sum(nil)) }

// commit makes the part durable and moves it to dest in one rename, so dest
// is either absent or complete.
func (p *partFile) commit(dest string) error {
	if err := p.f.Sync(); err != nil {
		p.f.Close()
		return err
	}
	if err := p.f.Close(); err != nil {
		return err
	}
	return os.Rename(p.path, dest)
}

// discard closes and deletes the part (after a checksum mismatch).
func (p *partFile) discard() {
	p.f.Close()
	os.Remove(p.path)
	os.Remove(validatorPath(p.path))
}

// The validator (strong ETag or Last-Modified) of the response a part came
// from is kept beside it and sent as If-Range when resuming, so a file that
// changed upstream is fetched whole instead of being spliced.
func validatorPath(part string) string { return part + ".validator" }

func readValidator(part string) string {
	b, err := os.ReadFile(validatorPath(part))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func writeValidator(part, v string) error {
	if v == "" {
		err := os.Remove(validatorPath(part))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	return os.WriteFile(validatorPath(part), []byte(v+"\n"), 0o644)
}

// fileSHA256 hashes a whole file.
func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
