// Package bundle reads and writes DAPO feature bundles: one safetensors file
// per image carrying what the browser-side scoring stage needs (the global
// feature, the per-layer adapter outputs and the class text features) so that
// the browser never runs the image encoder. docs/bundle.md is the
// specification.
package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Format identifies a bundle in its metadata.
const Format = "dapo-bundle"

// Version is the version this package writes. Readers accept any minor of
// the same major: a newer minor may only add optional fields and tensors.
const (
	MajorVersion = 1
	MinorVersion = 0
	Version      = "1.0"
)

// MetadataKey is the single safetensors __metadata__ key of a bundle.
const MetadataKey = "dapo"

// Limits that keep a corrupt or hostile bundle from making a reader
// allocate without bound (the browser has little memory to spare).
const (
	// MaxTensorBytes caps the sum of all declared tensor sizes.
	MaxTensorBytes = 512 << 20
	// MaxImageSize caps image_size, the side of the maps scoring allocates.
	MaxImageSize = 4096
	// MaxLayers caps len(feature_layers).
	MaxLayers = 64
)

// normTol is how far |global| and |text rows| may stray from 1; loose enough
// for features that went through F16 before being stored.
const normTol = 1e-2

// Model names a backbone or checkpoint: a stable ID and a display name.
type Model struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Image describes the source image (pixel size before preprocessing).
type Image struct {
	Name   string `json:"name"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Meta is the JSON object stored under the "dapo" metadata key.
type Meta struct {
	Format        string   `json:"format"`
	Version       string   `json:"version"`
	Backbone      Model    `json:"backbone"`
	Checkpoint    Model    `json:"checkpoint"`
	ImageSize     int      `json:"image_size"`
	Grid          int      `json:"grid"`
	FeatureLayers []int    `json:"feature_layers"` // 1-based transformer layers
	Classes       []string `json:"classes"`        // Classes[0] is "normal"
	Temperature   float32  `json:"temperature"`
	Image         Image    `json:"image"`
}

// parseVersion splits "major.minor" (decimal, no sign, no extra parts).
func parseVersion(v string) (major, minor int, err error) {
	a, b, ok := strings.Cut(v, ".")
	if !ok {
		return 0, 0, fmt.Errorf("version %q is not major.minor", v)
	}
	major, err1 := parseUint(a)
	minor, err2 := parseUint(b)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("version %q is not major.minor", v)
	}
	return major, minor, nil
}

func parseUint(s string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a decimal number")
	}
	return strconv.Atoi(s)
}

// checkVersion accepts the supported major only; it reports whether the
// minor is newer than this package knows (then unknown content is ignored).
func checkVersion(v string) (newerMinor bool, err error) {
	major, minor, err := parseVersion(v)
	if err != nil {
		return false, fmt.Errorf("bundle: %w", err)
	}
	if major != MajorVersion {
		return false, fmt.Errorf("bundle: unsupported major version %d (version %q); this reader supports %d.x", major, v, MajorVersion)
	}
	return minor > MinorVersion, nil
}

// validate checks the metadata on its own (no tensors).
func (m *Meta) validate() error {
	if m.Format != Format {
		return fmt.Errorf("bundle: format %q, want %q", m.Format, Format)
	}
	if _, err := checkVersion(m.Version); err != nil {
		return err
	}
	if m.Backbone.ID == "" {
		return errors.New("bundle: backbone.id is empty")
	}
	if m.Checkpoint.ID == "" {
		return errors.New("bundle: checkpoint.id is empty")
	}
	if m.Grid < 1 {
		return fmt.Errorf("bundle: grid %d < 1", m.Grid)
	}
	if m.ImageSize < m.Grid || m.ImageSize > MaxImageSize {
		return fmt.Errorf("bundle: image_size %d outside [grid=%d, %d]", m.ImageSize, m.Grid, MaxImageSize)
	}
	if n := len(m.FeatureLayers); n < 1 || n > MaxLayers {
		return fmt.Errorf("bundle: feature_layers has %d entries, want 1..%d", n, MaxLayers)
	}
	seen := map[int]bool{}
	for i, l := range m.FeatureLayers {
		if l < 1 || seen[l] {
			return fmt.Errorf("bundle: feature_layers[%d] = %d must be ≥ 1 and unique", i, l)
		}
		seen[l] = true
	}
	if len(m.Classes) < 2 {
		return fmt.Errorf("bundle: classes has %d entries, want ≥ 2 (normal + a defect)", len(m.Classes))
	}
	if m.Classes[0] != "normal" {
		return fmt.Errorf("bundle: classes[0] = %q, want \"normal\"", m.Classes[0])
	}
	names := map[string]bool{}
	for i, c := range m.Classes {
		if c == "" || names[c] {
			return fmt.Errorf("bundle: classes[%d] = %q must be non-empty and unique", i, c)
		}
		names[c] = true
	}
	t := float64(m.Temperature)
	if !(t > 0) || math.IsInf(t, 0) {
		return fmt.Errorf("bundle: temperature %v must be finite and > 0", m.Temperature)
	}
	if m.Image.Width < 1 || m.Image.Height < 1 {
		return fmt.Errorf("bundle: image width×height %d×%d must be positive", m.Image.Width, m.Image.Height)
	}
	return nil
}

// parseMeta reads the metadata map of a bundle. Unknown JSON fields are an
// error unless the minor version is newer than this reader's.
func parseMeta(md map[string]string) (Meta, bool, error) {
	var m Meta
	raw, ok := md[MetadataKey]
	if !ok {
		return m, false, fmt.Errorf("bundle: no %q metadata key (not a DAPO bundle?)", MetadataKey)
	}
	if len(md) != 1 {
		return m, false, fmt.Errorf("bundle: metadata has %d keys, want only %q", len(md), MetadataKey)
	}
	var head struct {
		Format  string `json:"format"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal([]byte(raw), &head); err != nil {
		return m, false, fmt.Errorf("bundle: metadata %q is not a JSON object: %w", MetadataKey, err)
	}
	if head.Format != Format {
		return m, false, fmt.Errorf("bundle: format %q, want %q", head.Format, Format)
	}
	newer, err := checkVersion(head.Version)
	if err != nil {
		return m, false, err
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	if !newer {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&m); err != nil {
		return m, false, fmt.Errorf("bundle: metadata %q: %w", MetadataKey, err)
	}
	if dec.More() {
		return m, false, fmt.Errorf("bundle: metadata %q: trailing data after the JSON object", MetadataKey)
	}
	if err := m.validate(); err != nil {
		return m, false, err
	}
	return m, newer, nil
}
