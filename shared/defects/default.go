package defects

import (
	_ "embed"
	"fmt"
	"sync"
)

// vocabJSON is a verbatim copy of the team folder's docs/defect-vocab.json;
// a test keeps the two equal.
//
//go:embed defect-vocab.json
var vocabJSON string

//go:embed aliases.json
var aliasJSON string

// defaultVocab parses the embedded files once; the result is immutable.
var defaultVocab = sync.OnceValue(func() *Vocab {
	v, err := Parse([]byte(vocabJSON), []byte(aliasJSON))
	if err != nil {
		// The files are compiled in and checked by the tests, so this is a
		// build defect, not a runtime condition.
		panic(fmt.Sprintf("defects: embedded vocabulary: %v", err))
	}
	return v
})

// Default returns the reference's vocabulary embedded in the binary.
func Default() *Vocab { return defaultVocab() }

// VocabJSON returns the embedded defect-vocab.json, e.g. to ship it inside a
// feature bundle.
func VocabJSON() []byte { return []byte(vocabJSON) }

// Datasets lists every dataset of the embedded vocabulary, sorted.
func Datasets() []string { return Default().Datasets() }

// TrainStates: see Vocab.TrainStates, on the embedded vocabulary.
func TrainStates(dataset string) ([]string, error) { return Default().TrainStates(dataset) }

// TrainClass: see Vocab.TrainClass, on the embedded vocabulary.
func TrainClass(dataset, folder string) (int, bool) { return Default().TrainClass(dataset, folder) }

// TestWords: see Vocab.TestWords, on the embedded vocabulary.
func TestWords(dataset string) ([]string, error) { return Default().TestWords(dataset) }

// Classes: see Vocab.Classes, on the embedded vocabulary.
func Classes(dataset string) ([]string, error) { return Default().Classes(dataset) }

// ClassID: see Vocab.ClassID, on the embedded vocabulary.
func ClassID(dataset, key string) (int, bool) { return Default().ClassID(dataset, key) }

// DefectWord: see Vocab.DefectWord, on the embedded vocabulary.
func DefectWord(dataset, key string) (string, bool) { return Default().DefectWord(dataset, key) }

// Alias: see Vocab.Alias, on the embedded vocabulary.
func Alias(dataset, label string) (string, bool) { return Default().Alias(dataset, label) }

// Products: see Vocab.Products, on the embedded vocabulary.
func Products(dataset string) ([]string, error) { return Default().Products(dataset) }

// ProductClasses: see Vocab.ProductClasses, on the embedded vocabulary.
func ProductClasses(dataset, product string) ([]string, error) {
	return Default().ProductClasses(dataset, product)
}

// ProductClassIndex: see Vocab.ProductClassIndex, on the embedded vocabulary.
func ProductClassIndex(dataset, product, key string) (int, bool) {
	return Default().ProductClassIndex(dataset, product, key)
}
