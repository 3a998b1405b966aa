package dataset

// Count tallies the images of one product, split and defect key.
type Count struct {
	Images    int
	Masks     int // images with a mask file
	Anomalous int
}

// Counts tallies the items as product → split → defect key → Count.
func (d *Dataset) Counts() map[string]map[string]map[string]Count {
	out := map[string]map[string]map[string]Count{}
	for _, it := range d.Items {
		splits, ok := out[it.Product]
		if !ok {
			splits = map[string]map[string]Count{}
			out[it.Product] = splits
		}
		keys, ok := splits[it.Split]
		if !ok {
			keys = map[string]Count{}
			splits[it.Split] = keys
		}
		c := keys[it.DefectKey]
		c.Images++
		if it.MaskPath != "" {
			c.Masks++
		}
		if it.Anomalous {
			c.Anomalous++
		}
		keys[it.DefectKey] = c
	}
	return out
}
