package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// ManifestFile is the name of the record kept in each model folder.
const ManifestFile = "manifest.json"

// FileRecord describes one downloaded file.
type FileRecord struct {
	Name   string    `json:"name"`
	Size   int64     `json:"size"`
	SHA256 string    `json:"sha256"`
	URL    string    `json:"url"`
	Source Source    `json:"source,omitempty"`
	Time   time.Time `json:"time"`
}

// Manifest records what Pull put in a model folder, so a later Pull can
// check the files instead of fetching them again.
type Manifest struct {
	Model string       `json:"model"`
	Files []FileRecord `json:"files"`
}

// ReadManifest loads dir's manifest; a missing one reads as empty.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if errors.Is(err, os.ErrNotExist) {
		return &Manifest{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return &m, nil
}

// Find returns the record of the file called name.
func (m *Manifest) Find(name string) (FileRecord, bool) {
	for _, r := range m.Files {
		if r.Name == name {
			return r, true
		}
	}
	return FileRecord{}, false
}

// Put adds or replaces the record of r.Name.
func (m *Manifest) Put(r FileRecord) {
	for i := range m.Files {
		if m.Files[i].Name == r.Name {
			m.Files[i] = r
			return
		}
	}
	m.Files = append(m.Files, r)
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Name < m.Files[j].Name })
}

// Write saves the manifest into dir atomically (temp file, then rename).
func (m *Manifest) Write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ManifestFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, ManifestFile)); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// Verify checks that the file at path still has the recorded size and
// sha256 (size first: it is free and catches most damage).
func (r FileRecord) Verify(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Size() != r.Size {
		return fmt.Errorf("%s: size %d, manifest says %d", path, st.Size(), r.Size)
	}
	sum, _, err := fileSHA256(path)
	if err != nil {
		return err
	}
	if sum != r.SHA256 {
		return fmt.Errorf("%s: sha256 %s, manifest says %s", path, sum, r.SHA256)
	}
	return nil
}
