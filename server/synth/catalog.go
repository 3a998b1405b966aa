package synth

import (
	"fmt"
	"slices"
	"strings"
)

// Good is the defect key of normal images, as in MVTec's good/ folders.
const Good = "good"

// Defect keys. Each is the defect word itself; see Word for keys of more
// than one word.
const (
	Scratch       = "scratch"
	Hole          = "hole"
	Contamination = "contamination"
	Discoloration = "discoloration"
	Crack         = "crack"
	Missing       = "missing"
	Bent          = "bent"
)

// Family names.
const (
	FamilyA = "A"
	FamilyB = "B"
)

// DefectType describes one defect key.
type DefectType struct {
	Key         string `json:"key"`
	Word        string `json:"word"`
	Description string `json:"description"`
	// Families lists the families whose products show this defect.
	Families []string `json:"families"`
}

// Product describes one synthetic product.
type Product struct {
	Name        string   `json:"name"`
	Family      string   `json:"family"`
	Description string   `json:"description"`
	Defects     []string `json:"defects"`
}

// familyDefects: B has every defect of A plus three that need a product
// with parts and outlines, so a model trained on A meets unseen defect
// words on B.
func familyDefects(family string) []string {
	a := []string{Scratch, Hole, Contamination, Discoloration}
	if family == FamilyB {
		return append(a, Crack, Missing, Bent)
	}
	return a
}

// DefectTypes lists every defect key in table order.
func DefectTypes() []DefectType {
	ab := []string{FamilyA, FamilyB}
	b := []string{FamilyB}
	return []DefectType{
		{Scratch, Word(Scratch), "thin curved line, brighter or darker than the surface", ab},
		{Hole, Word(Hole), "dark round pit with a shaded, raised rim", ab},
		{Contamination, Word(Contamination), "irregular blob of foreign material: dirt, oil, rust or powder", ab},
		{Discoloration, Word(Discoloration), "soft-edged colour shift: heat tint, stain or bleaching", ab},
		{Crack, Word(Crack), "branching, jagged dark line", b},
		{Missing, Word(Missing), "missing part: a piece of the product removed, showing what was beneath", b},
		{Bent, Word(Bent), "bent or deformed: a local warp of the product's outline, with shading", b},
	}
}

// Products lists the products of a family (A or B, any case).
func Products(family string) ([]Product, error) {
	f, err := NormalizeFamily(family)
	if err != nil {
		return nil, err
	}
	var out []Product
	for _, p := range catalog() {
		if p.Family == f {
			out = append(out, p.Product)
		}
	}
	return out, nil
}

// NormalizeFamily returns "A" or "B" for a family name in any case.
func NormalizeFamily(family string) (string, error) {
	f := strings.ToUpper(strings.TrimSpace(family))
	if f != FamilyA && f != FamilyB {
		return "", fmt.Errorf("synth: unknown family %q (want A or B)", family)
	}
	return f, nil
}

// Word is the defect word a key stands for: the key with '_' read as a
// space, so a multi-word defect can still be a folder name.
func Word(key string) string { return strings.ReplaceAll(key, "_", " ") }

// productEntry is a catalogue row: the public description and the drawing.
type productEntry struct {
	Product
	draw func(sc *scene)
}

// catalog is a function rather than a package variable so that nothing can
// change the table.
func catalog() []productEntry {
	a, b := familyDefects(FamilyA), familyDefects(FamilyB)
	return []productEntry{
		{Product{"metal_plate", FamilyA, "brushed stainless steel plate with an anisotropic sheen", a}, drawMetalPlate},
		{Product{"wood", FamilyA, "planed wood board with growth rings, fibres and pores", a}, drawWood},
		{Product{"fabric", FamilyA, "woven denim-like twill fabric", a}, drawFabric},
		{Product{"pcb", FamilyB, "bare printed circuit board: green solder mask, tracks and gold pads", b}, drawPCB},
		{Product{"washer", FamilyB, "turned steel washer on a rubber mat, lit from one side", b}, drawWasher},
		{Product{"stone_tile", FamilyB, "polished granite tiles with grout joints", b}, drawStoneTile},
	}
}

func lookupProduct(name string) (productEntry, error) {
	for _, p := range catalog() {
		if p.Name == name {
			return p, nil
		}
	}
	var names []string
	for _, p := range catalog() {
		names = append(names, p.Name)
	}
	return productEntry{}, fmt.Errorf("synth: unknown product %q (products: %s)", name, strings.Join(names, ", "))
}

func (p productEntry) hasDefect(key string) bool {
	return key == Good || slices.Contains(p.Defects, key)
}
