// Package defects holds the DAPO reference's defect vocabularies and label
// maps as data (defect-vocab.json, embedded verbatim from the team folder)
// and answers typed questions about them: the training states and
// folder→class map of train.py, the test-time defect words of test.py, and
// test_multi_defect.py's folder/label→class maps and per-product class
// lists. Class id 0 is always the normal class ("good" or "normal").
//
// Keys (defect folders, VisA labels, product names) are matched exactly
// first and then after normalisation: lower case, '_' and '-' read as
// spaces, runs of spaces collapsed. So "faulty_imprint", "Faulty Imprint"
// and "faulty imprint" are one key. A second embedded file, aliases.json,
// maps raw labels that are not vocabulary keys (Real-IAD's anomaly codes,
// VisA's free-text image_anno.csv labels) onto the key they mean.
//
// Pure Go without cgo, so it also builds for js/wasm.
package defects

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ErrUnknownDataset and ErrUnknownProduct are wrapped by the errors of
// lookups that name a dataset or product the vocabulary does not have.
var (
	ErrUnknownDataset = errors.New("unknown dataset")
	ErrUnknownProduct = errors.New("unknown product")
)

// Vocab is a parsed, validated vocabulary. It is immutable: every accessor
// returns copies, so one Vocab may be shared between goroutines.
type Vocab struct {
	train     map[string]trainSet
	testWords map[string][]string
	multi     map[string]multiSet
	datasets  []string
}

type trainSet struct {
	states []string
	ids    map[string]int // normalised folder → class id (0 = good)
}

type multiSet struct {
	classes  []string
	ids      map[string]int      // normalised folder/label → class id
	aliases  map[string]string   // normalised raw label → vocabulary key
	products map[string][]string // product → class words, index 0 normal
	prodKeys map[string]string   // normalised product → product
}

// vocabFile mirrors defect-vocab.json.
type vocabFile struct {
	Train map[string]struct {
		States        []string       `json:"states"`
		FolderToClass map[string]int `json:"folder_to_class"`
	} `json:"train"`
	TestWords map[string][]string `json:"test_words"`
	Multitype map[string]struct {
		FolderToClass map[string]int      `json:"folder_to_class"`
		LabelToClass  map[string]int      `json:"label_to_class"`
		Classes       []string            `json:"classes"`
		Products      map[string][]string `json:"products"`
	} `json:"multitype"`
}

// Parse reads a vocabulary in defect-vocab.json's format plus an optional
// alias file ({dataset: {raw label: vocabulary key}}; nil for none) and
// checks that it is consistent: class ids in range, every product list
// starting with the normal class and naming only known classes, every alias
// resolving to a key.
func Parse(vocabJSON, aliasJSON []byte) (*Vocab, error) {
	var f vocabFile
	if err := json.Unmarshal(vocabJSON, &f); err != nil {
		return nil, fmt.Errorf("defects: parse vocabulary: %w", err)
	}
	var aliases map[string]json.RawMessage
	if len(aliasJSON) > 0 {
		if err := json.Unmarshal(aliasJSON, &aliases); err != nil {
			return nil, fmt.Errorf("defects: parse aliases: %w", err)
		}
	}
	v := &Vocab{
		train:     map[string]trainSet{},
		testWords: map[string][]string{},
		multi:     map[string]multiSet{},
	}
	names := map[string]bool{}
	for ds, t := range f.Train {
		if len(t.States) == 0 {
			return nil, fmt.Errorf("defects: train %q: no states", ds)
		}
		ids, err := normalisedIDs(t.FolderToClass, len(t.States)+1)
		if err != nil {
			return nil, fmt.Errorf("defects: train %q: %w", ds, err)
		}
		v.train[ds] = trainSet{states: t.States, ids: ids}
		names[ds] = true
	}
	for ds, words := range f.TestWords {
		if len(words) == 0 {
			return nil, fmt.Errorf("defects: test_words %q: empty", ds)
		}
		v.testWords[ds] = words
		names[ds] = true
	}
	for ds, m := range f.Multitype {
		set, err := newMultiSet(m.Classes, m.FolderToClass, m.LabelToClass, m.Products)
		if err != nil {
			return nil, fmt.Errorf("defects: multitype %q: %w", ds, err)
		}
		v.multi[ds] = set
		names[ds] = true
	}
	for ds, raw := range aliases {
		if ds == "about" {
			continue
		}
		set, ok := v.multi[ds]
		if !ok {
			return nil, fmt.Errorf("defects: aliases for %q: %w", ds, ErrUnknownDataset)
		}
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("defects: aliases for %q: %w", ds, err)
		}
		for from, to := range m {
			if _, ok := set.lookup(to); !ok {
				return nil, fmt.Errorf("defects: alias %q → %q of %q: target is no key", from, to, ds)
			}
			set.aliases[normalise(from)] = to
		}
	}
	for ds := range names {
		v.datasets = append(v.datasets, ds)
	}
	sort.Strings(v.datasets)
	return v, nil
}

func newMultiSet(classes []string, folders, labels map[string]int, products map[string][]string) (multiSet, error) {
	if len(classes) < 2 {
		return multiSet{}, fmt.Errorf("%d classes, want a normal class and at least one defect", len(classes))
	}
	keys := map[string]int{}
	for k, id := range folders {
		keys[k] = id
	}
	for k, id := range labels {
		if old, dup := keys[k]; dup && old != id {
			return multiSet{}, fmt.Errorf("key %q has two class ids", k)
		}
		keys[k] = id
	}
	ids, err := normalisedIDs(keys, len(classes))
	if err != nil {
		return multiSet{}, err
	}
	set := multiSet{
		classes:  classes,
		ids:      ids,
		aliases:  map[string]string{},
		products: map[string][]string{},
		prodKeys: map[string]string{},
	}
	for p, list := range products {
		if len(list) == 0 || list[0] != classes[0] {
			return multiSet{}, fmt.Errorf("product %q: class list must start with %q", p, classes[0])
		}
		for i, w := range list {
			if !slices.Contains(classes, w) {
				return multiSet{}, fmt.Errorf("product %q: class %q is not in the class list", p, w)
			}
			if slices.Contains(list[:i], w) {
				return multiSet{}, fmt.Errorf("product %q: class %q twice", p, w)
			}
		}
		n := normalise(p)
		if other, dup := set.prodKeys[n]; dup {
			return multiSet{}, fmt.Errorf("products %q and %q collide", other, p)
		}
		set.products[p] = list
		set.prodKeys[n] = p
	}
	return set, nil
}

// normalisedIDs re-keys a key→id map by normalised key, checking ids lie in
// [0, n) and that no two keys collapse onto different ids.
func normalisedIDs(keys map[string]int, n int) (map[string]int, error) {
	out := make(map[string]int, len(keys))
	for k, id := range keys {
		if id < 0 || id >= n {
			return nil, fmt.Errorf("key %q: class id %d outside [0,%d)", k, id, n)
		}
		nk := normalise(k)
		if old, dup := out[nk]; dup && old != id {
			return nil, fmt.Errorf("key %q collides with another key of class %d", k, old)
		}
		out[nk] = id
	}
	return out, nil
}

// normalise folds the spellings one key appears in across datasets and
// tools: case, '_' or '-' for spaces, stray whitespace.
func normalise(s string) string {
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		if r == '_' || r == '-' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// normalKey says whether a key names the normal class in any dataset.
func normalKey(n string) bool { return n == "good" || n == "normal" }

func (s multiSet) lookup(key string) (int, bool) {
	n := normalise(key)
	if id, ok := s.ids[n]; ok {
		return id, true
	}
	if normalKey(n) {
		return 0, true
	}
	return 0, false
}

// Datasets lists every dataset the vocabulary names in any section, sorted.
func (v *Vocab) Datasets() []string { return slices.Clone(v.datasets) }

// MultiTypeDatasets lists the datasets with folder/label maps and product
// class lists (test_multi_defect.py), sorted.
func (v *Vocab) MultiTypeDatasets() []string {
	out := make([]string, 0, len(v.multi))
	for ds := range v.multi {
		out = append(out, ds)
	}
	sort.Strings(out)
	return out
}

func (v *Vocab) unknown(ds string) error {
	return fmt.Errorf("defects: %w %q (known: %s)", ErrUnknownDataset, ds, strings.Join(v.datasets, ", "))
}

func datasetKey(ds string) string { return strings.ToLower(strings.TrimSpace(ds)) }

func (v *Vocab) multiSet(dataset string) (multiSet, error) {
	s, ok := v.multi[datasetKey(dataset)]
	if !ok {
		return multiSet{}, v.unknown(dataset)
	}
	return s, nil
}

// TrainStates returns the defect states train.py prompts with, in class-id
// order: element i is class i+1.
func (v *Vocab) TrainStates(dataset string) ([]string, error) {
	t, ok := v.train[datasetKey(dataset)]
	if !ok {
		return nil, fmt.Errorf("defects: no training states: %w", v.unknown(dataset))
	}
	return slices.Clone(t.states), nil
}

// TrainClass maps a defect folder to train.py's class id (0 = good).
func (v *Vocab) TrainClass(dataset, folder string) (int, bool) {
	t, ok := v.train[datasetKey(dataset)]
	if !ok {
		return 0, false
	}
	id, ok := t.ids[normalise(folder)]
	if !ok && normalKey(normalise(folder)) {
		return 0, true
	}
	return id, ok
}

// TestWords returns the defect words test.py puts into prompts for a dataset.
func (v *Vocab) TestWords(dataset string) ([]string, error) {
	w, ok := v.testWords[datasetKey(dataset)]
	if !ok {
		return nil, fmt.Errorf("defects: no test words: %w", v.unknown(dataset))
	}
	return slices.Clone(w), nil
}

// Classes returns test_multi_defect.py's class words of a dataset, index =
// class id, index 0 the normal class.
func (v *Vocab) Classes(dataset string) ([]string, error) {
	s, err := v.multiSet(dataset)
	if err != nil {
		return nil, err
	}
	return slices.Clone(s.classes), nil
}

// ClassID maps a defect folder, VisA label or aliased raw label to its
// multi-type class id. "good" and "normal" are 0 everywhere. A label naming
// several defects ("scratch,chip") has no single id.
func (v *Vocab) ClassID(dataset, key string) (int, bool) {
	s, err := v.multiSet(dataset)
	if err != nil || strings.Contains(key, ",") {
		return 0, false
	}
	if id, ok := s.lookup(key); ok {
		return id, true
	}
	if to, ok := s.aliases[normalise(key)]; ok {
		return s.lookup(to)
	}
	return 0, false
}

// DefectWord maps a defect folder or label to the defect word of its
// multi-type class, e.g. ("mvtec", "bent_lead") → "bent",
// ("mpdd", "total_rust") → "rust", ("real-iad", "AK") → "pit".
func (v *Vocab) DefectWord(dataset, key string) (string, bool) {
	id, ok := v.ClassID(dataset, key)
	if !ok {
		return "", false
	}
	return v.multi[datasetKey(dataset)].classes[id], true
}

// Alias returns the vocabulary key a raw label stands for, e.g.
// ("real-iad", "AK") → "pit"; false when the label has no alias.
func (v *Vocab) Alias(dataset, label string) (string, bool) {
	s, err := v.multiSet(dataset)
	if err != nil {
		return "", false
	}
	to, ok := s.aliases[normalise(label)]
	return to, ok
}

// Products lists the products with a class list, sorted.
func (v *Vocab) Products(dataset string) ([]string, error) {
	s, err := v.multiSet(dataset)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(s.products))
	for p := range s.products {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// ProductClasses returns a product's class list L_p (§5.4): index 0 the
// normal class, then the defect words scored for that product.
func (v *Vocab) ProductClasses(dataset, product string) ([]string, error) {
	s, err := v.multiSet(dataset)
	if err != nil {
		return nil, err
	}
	if l, ok := s.products[product]; ok {
		return slices.Clone(l), nil
	}
	if p, ok := s.prodKeys[normalise(product)]; ok {
		return slices.Clone(s.products[p]), nil
	}
	return nil, fmt.Errorf("defects: %s: %w %q", datasetKey(dataset), ErrUnknownProduct, product)
}

// ProductClassIndex is the ground-truth label of an image in multi-type
// scoring: the index of its defect word in the product's class list.
func (v *Vocab) ProductClassIndex(dataset, product, key string) (int, bool) {
	list, err := v.ProductClasses(dataset, product)
	if err != nil {
		return 0, false
	}
	w, ok := v.DefectWord(dataset, key)
	if !ok {
		return 0, false
	}
	i := slices.Index(list, w)
	return i, i >= 0
}
