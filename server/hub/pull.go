package hub

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Source says where Pull fetches a backbone from.
type Source string

const (
	// SourceHub fetches open_clip's config and safetensors from Hugging
	// Face: the files the backbone loader reads.
	SourceHub Source = "hub"
	// SourceOpenAI fetches OpenAI's original TorchScript checkpoint,
	// verified against the sha256 in its URL. It is stored only; the
	// loader does not read .pt files.
	SourceOpenAI Source = "openai"
)

// ParseSource accepts "hub" (also "") or "openai".
func ParseSource(s string) (Source, error) {
	switch Source(s) {
	case "", SourceHub:
		return SourceHub, nil
	case SourceOpenAI:
		return SourceOpenAI, nil
	}
	return "", fmt.Errorf("unknown source %q (want %q or %q)", s, SourceHub, SourceOpenAI)
}

// Options configure Pull. The embedded Downloader sets the transfer
// behaviour (client, retries, progress, logging, token).
type Options struct {
	Downloader
	// Cache defaults to CacheDir().
	Cache string
	// Source defaults to SourceHub.
	Source Source
	// HubURL defaults to $DAPO_HUB_URL, then $HF_ENDPOINT (Hugging Face's
	// mirror variable), then DefaultHubURL.
	HubURL string
	// OpenAIURL defaults to $DAPO_OPENAI_URL, then DefaultOpenAIURL.
	OpenAIURL string
}

// PulledFile is one file of a pulled backbone.
type PulledFile struct {
	FileRecord
	Path string
	// Reused is true when the file was already there and matched its record.
	Reused bool
}

// PullResult says where a backbone's files are.
type PullResult struct {
	Model  Model
	Source Source
	Dir    string
	Files  []PulledFile
}

// target is one file to fetch.
type target struct {
	file, url, sha256 string
}

// Pull fetches backbone name (or an alias) into ModelDir(cache, canonical
// name), reusing files that the manifest vouches for.
func Pull(ctx context.Context, name string, opt Options) (*PullResult, error) {
	res, err := pull(ctx, name, opt)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", name, err)
	}
	return res, nil
}

func pull(ctx context.Context, name string, opt Options) (*PullResult, error) {
	m, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	src, err := ParseSource(string(opt.Source))
	if err != nil {
		return nil, err
	}
	targets, err := opt.targets(m, src)
	if err != nil {
		return nil, err
	}
	cache := opt.Cache
	if cache == "" {
		if cache, err = CacheDir(); err != nil {
			return nil, err
		}
	}
	dir := ModelDir(cache, m.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	d := opt.Downloader
	log := d.logger()
	man, err := ReadManifest(dir)
	if err != nil {
		log.Warn("ignoring unreadable manifest; files will be fetched again", "err", err)
		man = &Manifest{}
	}
	man.Model = m.Name
	// The token is for Hugging Face only; never send it to another host.
	d.Token = ""
	if src == SourceHub {
		d.Token = opt.Token
		if d.Token == "" {
			d.Token = os.Getenv("HF_TOKEN")
		}
	}

	res := &PullResult{Model: m, Source: src, Dir: dir}
	for _, t := range targets {
		path := filepath.Join(dir, t.file)
		if rec, ok := reuse(path, t, src, man, dir, &d); ok {
			res.Files = append(res.Files, PulledFile{FileRecord: rec, Path: path, Reused: true})
			continue
		}
		d.info("fetching", "model", m.Name, "file", t.file, "url", t.url)
		rec, err := d.Download(ctx, t.url, path, t.sha256)
		if err != nil {
			return nil, err
		}
		rec.Source = src
		man.Put(rec)
		if err := man.Write(dir); err != nil {
			return nil, err
		}
		res.Files = append(res.Files, PulledFile{FileRecord: rec, Path: path})
	}
	return res, nil
}

// targets lists the files of m at src with their URLs.
func (opt Options) targets(m Model, src Source) ([]target, error) {
	if src == SourceOpenAI {
		base, err := baseURL(opt.OpenAIURL, "DAPO_OPENAI_URL", DefaultOpenAIURL)
		if err != nil {
			return nil, err
		}
		return []target{{m.OpenAIFile(), m.OpenAIURL(base), m.OpenAISHA256}}, nil
	}
	base, err := baseURL(opt.HubURL, "DAPO_HUB_URL", DefaultHubURL)
	if err != nil {
		return nil, err
	}
	var ts []target
	for _, f := range HubFiles() {
		ts = append(ts, target{f, HubFileURL(base, m.HubRepo, f), ""})
	}
	return ts, nil
}

// baseURL picks the explicit value, then the environment, then def, and
// checks it is an http(s) URL.
func baseURL(explicit, env, def string) (string, error) {
	u := explicit
	if u == "" {
		u = os.Getenv(env)
	}
	if u == "" && env == "DAPO_HUB_URL" {
		u = os.Getenv("HF_ENDPOINT")
	}
	if u == "" {
		u = def
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "", fmt.Errorf("base URL %q is not an http(s) URL", u)
	}
	return u, nil
}

// reuse reports whether path already holds the target: it must match its
// manifest record (and the pinned sha256, if any). A file without a record
// is adopted only when a pinned sha256 vouches for it.
func reuse(path string, t target, src Source, man *Manifest, dir string, d *Downloader) (FileRecord, bool) {
	log := d.logger()
	if _, err := os.Stat(path); err != nil {
		return FileRecord{}, false
	}
	if rec, ok := man.Find(t.file); ok {
		err := rec.Verify(path)
		if err == nil && t.sha256 != "" && rec.SHA256 != t.sha256 {
			err = fmt.Errorf("%s: sha256 %s, pinned %s", path, rec.SHA256, t.sha256)
		}
		if err == nil {
			d.info("already present and verified", "file", path, "sha256", rec.SHA256)
			return rec, true
		}
		log.Warn("cached file does not match; fetching it again", "err", err)
		return FileRecord{}, false
	}
	if t.sha256 == "" {
		d.info("file has no manifest record; fetching it again", "file", path)
		return FileRecord{}, false
	}
	sum, size, err := fileSHA256(path)
	if err != nil || sum != t.sha256 {
		log.Warn("cached file does not match its pinned sha256; fetching it again", "file", path)
		return FileRecord{}, false
	}
	rec := FileRecord{Name: t.file, Size: size, SHA256: sum, URL: t.url, Source: src, Time: time.Now().UTC()}
	man.Put(rec)
	if err := man.Write(dir); err != nil {
		log.Warn("could not update manifest", "err", err)
	}
	return rec, true
}
