package main

import (
	"fmt"

	"dapo/shared/render"
	"dapo/ui/inspect"

	"github.com/vugu/vugu"
)

// legendEntry is one defect type in the legend.
type legendEntry struct {
	Name   string
	Prob   string // image-level probability, "off" when switched off
	On     bool
	Class  string
	Swatch string // CSS colour: the class's colour in class maps
}

// legend lists the selected item's defect types: the ones in use by
// probability (as scoreapi sorts them), then the ones switched off.
func (c *Root) legend() []legendEntry {
	it := c.Selected
	if it == nil || it.Result == nil {
		return nil
	}
	pal := render.Palette(len(it.Meta.Classes))
	index := map[string]int{}
	for k, name := range it.Meta.Classes {
		index[name] = k
	}
	swatch := func(name string) string {
		p := pal[index[name]]
		return fmt.Sprintf("rgb(%d,%d,%d)", p.R, p.G, p.B)
	}
	var out []legendEntry
	for _, d := range it.Result.DefectTypes {
		out = append(out, legendEntry{Name: d.Name, Prob: inspect.FormatPercent(d.Probability), On: true, Class: "on", Swatch: swatch(d.Name)})
	}
	for _, d := range it.Defects() {
		if c.Settings.Disabled[d] {
			out = append(out, legendEntry{Name: d, Prob: "off", Class: "off", Swatch: swatch(d)})
		}
	}
	return out
}

func (c *Root) defectSummary() string {
	r := c.Selected.Result
	if r == nil {
		return ""
	}
	s := "Most likely: " + r.TopDefect
	if r.TopDefectInMask != "" {
		s += "; inside the mask: " + r.TopDefectInMask
	}
	return s + "."
}

// onToggleType switches a defect type on or off. The subset changes the
// image score, so every item is re-scored and the gallery re-sorted.
func (c *Root) onToggleType(name string, e vugu.DOMEvent) {
	on := e.PropBool("target", "checked")
	if !on {
		left := 0
		for _, d := range c.Selected.Defects() {
			if !c.Settings.Disabled[d] && d != name {
				left++
			}
		}
		if left == 0 {
			c.say("error", "At least one defect type must stay on.")
			return // the next render restores the checkbox
		}
		c.Settings.Disabled[name] = true
	} else {
		delete(c.Settings.Disabled, name)
	}
	for _, it := range c.Items {
		if _, err := c.Settings.Score(it); err != nil && it == c.Selected {
			c.say("error", "%v", err)
		}
	}
	c.recompose()
}
