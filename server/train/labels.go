package train

import (
	"fmt"
	"slices"
	"sort"

	"dapo/server/dataset"
	"dapo/shared/defects"
)

// Labeler maps dataset defect keys to DAPO class ids (0 normal, 1..S the
// defect words in Defects order).
type Labeler struct {
	Defects []string
	classOf func(key string) (int, bool)
}

// Class returns the class id of a defect key.
func (l *Labeler) Class(key string) (int, error) {
	if key == dataset.GoodKey {
		return 0, nil
	}
	c, ok := l.classOf(key)
	if !ok {
		return 0, fmt.Errorf("defect key %q has no defect word (give --defect-map)", key)
	}
	return c, nil
}

// NewLabeler picks the class map: an explicit --defect-map (key → word),
// the reference's built-in maps for MVTec (train.py) and VisA, or — for
// datasets whose defect keys are already words, such as 'dapo synth'
// output — the keys themselves.
func NewLabeler(format string, keys []string, defectMap map[string]string) (*Labeler, error) {
	if len(defectMap) > 0 {
		var words []string
		for _, w := range defectMap {
			if !slices.Contains(words, w) {
				words = append(words, w)
			}
		}
		sort.Strings(words)
		return &Labeler{Defects: words, classOf: func(k string) (int, bool) {
			w, ok := defectMap[k]
			if !ok {
				return 0, false
			}
			return slices.Index(words, w) + 1, true
		}}, nil
	}
	// The built-in maps apply when they know every defect key; datasets in
	// MVTec layout whose folders are already words (dapo synth) fall
	// through to the keys themselves.
	known := func(classOf func(string, string) (int, bool), ds string) bool {
		for _, k := range keys {
			if _, ok := classOf(ds, k); !ok && k != dataset.GoodKey {
				return false
			}
		}
		return true
	}
	switch {
	case format == "mvtec" && known(defects.TrainClass, "mvtec"):
		states, err := defects.TrainStates("mvtec")
		if err != nil {
			return nil, err
		}
		return &Labeler{Defects: states, classOf: func(k string) (int, bool) { return defects.TrainClass("mvtec", k) }}, nil
	case format == "visa" && known(defects.ClassID, "visa"):
		classes, err := defects.Classes("visa")
		if err != nil {
			return nil, err
		}
		return &Labeler{Defects: classes[1:], classOf: func(k string) (int, bool) { return defects.ClassID("visa", k) }}, nil
	}
	var words []string
	for _, k := range keys {
		if k == dataset.GoodKey {
			continue
		}
		w := keyWord(k)
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	sort.Strings(words)
	if len(words) == 0 {
		return nil, fmt.Errorf("the dataset has no defect folders to learn from")
	}
	return &Labeler{Defects: words, classOf: func(k string) (int, bool) {
		i := slices.Index(words, keyWord(k))
		return i + 1, i >= 0
	}}, nil
}

// keyWord turns a folder name into a defect word (faulty_imprint → faulty imprint).
func keyWord(k string) string {
	b := []byte(k)
	for i, c := range b {
		if c == '_' {
			b[i] = ' '
		}
	}
	return string(b)
}
