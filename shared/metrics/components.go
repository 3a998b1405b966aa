package metrics

// labeler finds 8-connected components; it keeps its union-find table
// between images so an accumulator does not allocate per image.
type labeler struct {
	parent []int32
}

// Label8 labels the 8-connected foreground components of a row-major w×h
// mask like skimage.measure.label(mask) (connectivity 2 for 2-D): background
// 0, components 1..n numbered in raster order of their first pixel. labels
// must hold w*h values; it returns n (0 when the sizes do not fit).
func Label8(mask []bool, w, h int, labels []int32) int {
	var l labeler
	return l.label(mask, w, h, labels)
}

func (l *labeler) find(x int32) int32 {
	for l.parent[x] != x {
		l.parent[x] = l.parent[l.parent[x]] // path halving
		x = l.parent[x]
	}
	return x
}

// union keeps the smaller label as root: provisional labels grow in raster
// order, so each root is the label of its component's first pixel.
func (l *labeler) union(a, b int32) {
	ra, rb := l.find(a), l.find(b)
	switch {
	case ra < rb:
		l.parent[rb] = ra
	case rb < ra:
		l.parent[ra] = rb
	}
}

func (l *labeler) label(mask []bool, w, h int, labels []int32) int {
	if w <= 0 || h <= 0 || len(mask) != w*h || len(labels) != w*h {
		return 0
	}
	l.parent = append(l.parent[:0], 0)
	// First pass: provisional labels from the already visited neighbours
	// (W, NW, N, NE), recording equivalences.
	for y := range h {
		row := y * w
		for x := range w {
			i := row + x
			if !mask[i] {
				labels[i] = 0
				continue
			}
			var nb [4]int32
			k := 0
			if x > 0 && labels[i-1] != 0 {
				nb[k] = labels[i-1]
				k++
			}
			if y > 0 {
				up := i - w
				if x > 0 && labels[up-1] != 0 {
					nb[k] = labels[up-1]
					k++
				}
				if labels[up] != 0 {
					nb[k] = labels[up]
					k++
				}
				if x+1 < w && labels[up+1] != 0 {
					nb[k] = labels[up+1]
					k++
				}
			}
			if k == 0 {
				id := int32(len(l.parent))
				l.parent = append(l.parent, id)
				labels[i] = id
				continue
			}
			m := nb[0]
			for _, v := range nb[1:k] {
				m = min(m, v)
			}
			labels[i] = m
			for _, v := range nb[:k] {
				if v != m {
					l.union(m, v)
				}
			}
		}
	}
	// Resolve: parent[id] <= id always holds, so in increasing order a
	// label's parent is already final; roots get 1, 2, ... in raster order.
	n := int32(0)
	for id := int32(1); id < int32(len(l.parent)); id++ {
		if p := l.parent[id]; p == id {
			n++
			l.parent[id] = -n // negative marks a final label
		} else {
			l.parent[id] = l.parent[p]
		}
	}
	for i, v := range labels {
		if v != 0 {
			labels[i] = -l.parent[v]
		}
	}
	return int(n)
}
