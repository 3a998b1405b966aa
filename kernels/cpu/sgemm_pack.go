package cpu

// packPanels packs lanes [l0, l0+nl) by depth [p0, p0+kb) of a row-major
// matrix x into panels of w lanes: panel q holds kbPad depth steps of w
// lanes each, lane fastest, zero-padded past kb and past the last lane.
//
// With gather, lane l at depth p is x[(l0+l)·ld + p0+p] (each lane is a
// stored row: A, or Bᵀ); otherwise it is x[(p0+p)·ld + l0+l] (lanes are
// stored columns: B, or Aᵀ). gatherFn, if not nil, replaces gatherPanel.
func packPanels(gatherFn func(panel, x []float32, ld, l, lanes, p0, kb, w int), dst, x []float32, ld int, gather bool, l0, nl, p0, kb, kbPad, w int) {
	if gatherFn == nil {
		gatherFn = gatherPanel
	}
	for q := 0; q*w < nl; q++ {
		lanes := min(w, nl-q*w)
		panel := dst[q*kbPad*w : (q+1)*kbPad*w]
		l := l0 + q*w
		if gather {
			gatherFn(panel, x, ld, l, lanes, p0, kb, w)
		} else {
			for p := 0; p < kb; p++ {
				row := panel[p*w : p*w+w]
				off := (p0+p)*ld + l
				if w == 2 && lanes == 2 { // portable panels: skip copy's call
					row[0], row[1] = x[off], x[off+1]
					continue
				}
				copy(row, x[off:off+lanes])
				clear(row[lanes:])
			}
		}
		clear(panel[kb*w:])
	}
}

// gatherPanel transposes `lanes` stored rows of x into one panel.
func gatherPanel(panel, x []float32, ld, l, lanes, p0, kb, w int) {
	gatherLanes(panel, x, ld, l, 0, lanes, p0, kb, w)
}

// gatherLanes fills lanes [from, lanes) of a gathered panel, four rows at
// a time so each depth step writes adjacent floats, and zeroes lanes
// [lanes, w).
func gatherLanes(panel, x []float32, ld, l, from, lanes, p0, kb, w int) {
	i := from
	for ; i+4 <= lanes; i += 4 {
		s0 := x[(l+i)*ld+p0 : (l+i)*ld+p0+kb]
		s1 := x[(l+i+1)*ld+p0 : (l+i+1)*ld+p0+kb]
		s2 := x[(l+i+2)*ld+p0 : (l+i+2)*ld+p0+kb]
		s3 := x[(l+i+3)*ld+p0 : (l+i+3)*ld+p0+kb]
		for p := range s0 {
			d := panel[p*w+i : p*w+i+4 : p*w+i+4]
			d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
		}
	}
	for ; i < lanes; i++ {
		s := x[(l+i)*ld+p0 : (l+i)*ld+p0+kb]
		for p, v := range s {
			panel[p*w+i] = v
		}
	}
	if lanes < w {
		for p := 0; p < kb; p++ {
			clear(panel[p*w+lanes : p*w+w])
		}
	}
}
