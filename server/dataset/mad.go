package dataset

import "strings"

// madLayout reads MAD-Sim and MAD-Real (PAD benchmark): the MVTec tree with
// toy folders. MAD-Sim numbers its folders ("02Unicorn") and names masks
// <stem>_mask.png; MAD-Real uses plain names ("Parrot") and <stem>.png masks
// beside .jpg images. Good test images come with all-zero mask files, which
// are attached as their MaskPath when present (the reference's meta.json
// lists them too).
func madLayout(format string) treeLayout {
	masks := func(s string) []string { return []string{s + "_mask.png", s + ".png"} }
	if format == "mad-real" {
		masks = func(s string) []string { return []string{s + ".png", s + "_mask.png"} }
	}
	return treeLayout{format: format, product: madProduct, masks: masks}
}

// madProduct drops MAD-Sim's numeric prefix so products match the
// reference's names (product_cls "Unicorn" for folder 02Unicorn).
func madProduct(folder string) string {
	if p := strings.TrimLeft(folder, "0123456789"); p != "" {
		return p
	}
	return folder
}
