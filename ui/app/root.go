// Command app is the inspection app, compiled to js/wasm: the vugu
// components in root.vugu over the logic in ui/inspect. Build it with
// scripts/build-ui.sh.
package main

//go:generate go tool vugugen -s -skip-go-mod -skip-main
//go:generate gofmt -w 0_components_gen.go

import (
	"fmt"
	"image"
	"strconv"

	"dapo/ui/inspect"

	"github.com/vugu/vugu"
)

// canvasMaxSide bounds the composed view; larger originals are shown
// scaled down (the map itself is only image_size pixels wide).
const canvasMaxSide = 720

var colormaps = []string{"jet", "viridis", "inferno", "gray"}

// Root is the app's single component: gallery, viewer and controls.
type Root struct {
	host Host
	env  vugu.EventEnv

	Items       []*inspect.Item
	Selected    *inspect.Item
	Settings    inspect.Settings
	ShowPred    bool
	ShowGT      bool
	Message     string
	MessageKind string // "info" or "error"
	GalleryHint string

	thumbs   map[*inspect.Item]string
	frame    *image.RGBA
	frameGen int
}

// NewRoot makes the component over host.
func NewRoot(host Host) *Root {
	return &Root{
		host: host, Settings: inspect.DefaultSettings(), ShowPred: true, ShowGT: true,
		GalleryHint: "Loading the gallery…", thumbs: map[*inspect.Item]string{},
	}
}

// Init starts loading the gallery and listening for files; vugu calls it
// once, with the event environment that background work must lock.
func (c *Root) Init(ctx vugu.InitCtx) {
	c.env = ctx.EventEnv()
	c.host.OnFiles(c.openFiles)
	go c.loadGallery()
}

// afterRender draws the current frame; the canvas is (re)created by the
// DOM sync, so it is drawn after every render, not only when it changed.
func (c *Root) afterRender() {
	c.env.RLock()
	defer c.env.RUnlock()
	if c.Selected != nil && c.frame != nil {
		c.host.Draw("canvas", c.frameGen, c.frame)
	}
}

func (c *Root) say(kind, format string, args ...any) {
	c.Message, c.MessageKind = fmt.Sprintf(format, args...), kind
}

func (c *Root) dismiss() { c.Message = "" }

// add appends a loaded item, scores it and selects it when nothing is.
func (c *Root) add(it *inspect.Item) {
	c.Items = append(c.Items, it)
	if _, err := c.Settings.Score(it); err != nil {
		c.say("error", "%v", err)
	}
	c.thumbs[it] = inspect.Thumbnail(it)
	if c.Selected == nil {
		c.selectItem(it)
	}
}

func (c *Root) selectItem(it *inspect.Item) {
	c.Selected = it
	c.refresh()
}

// refresh re-scores the selected item if the settings changed since it was
// scored (threshold changes only re-score the item on view: the image
// score does not depend on the pixel threshold), then recomposes the view.
func (c *Root) refresh() {
	it := c.Selected
	if it == nil {
		return
	}
	if _, err := c.Settings.Score(it); err != nil {
		c.say("error", "%v", err)
	}
	c.recompose()
}

func (c *Root) recompose() {
	it := c.Selected
	if it == nil || it.Result == nil {
		c.frame = nil
		return
	}
	img, err := inspect.Compose(it, inspect.View{
		Colormap: c.Settings.Colormap, Alpha: c.Settings.Alpha, MaxSide: canvasMaxSide,
		ShowPred: c.ShowPred, ShowGT: c.ShowGT,
	})
	if err != nil {
		c.say("error", "%s: %v", it.Name, err)
		return
	}
	c.frame = img
	c.frameGen++
}

func (c *Root) sorted() []*inspect.Item { return inspect.Sorted(c.Items) }

func (c *Root) thumb(it *inspect.Item) string { return c.thumbs[it] }

func (c *Root) itemClass(it *inspect.Item) string {
	if it == c.Selected {
		return "item selected"
	}
	return "item"
}

func (c *Root) itemScore(it *inspect.Item) string {
	if it.Result == nil {
		return "—"
	}
	return inspect.FormatScore(it.Result.Score)
}

func (c *Root) itemVerdict(it *inspect.Item) string {
	switch {
	case it.Err != nil && it.Result == nil:
		return "error"
	case it.Result == nil:
		return "pending"
	}
	return it.Result.Verdict
}

func (c *Root) scoreText() string   { return c.itemScore(c.Selected) }
func (c *Root) verdictText() string { return c.itemVerdict(c.Selected) }

func (c *Root) maskCount() int {
	if r := c.Selected.Result; r != nil {
		return inspect.Count(r.Mask)
	}
	return 0
}

func (c *Root) maskText() string {
	r := c.Selected.Result
	if r == nil {
		return "—"
	}
	n := inspect.Count(r.Mask)
	return fmt.Sprintf("%d px (%s)", n, inspect.FormatPercent(float64(n)/float64(len(r.Mask))))
}

func (c *Root) gtCount() int { return inspect.Count(c.Selected.GT) }

func (c *Root) gtText() string {
	it := c.Selected
	s := fmt.Sprintf("%d px", inspect.Count(it.GT))
	if it.Result != nil {
		if iou, _, err := inspect.Overlap(it.Result.Mask, it.GT); err == nil {
			s += ", IoU " + strconv.FormatFloat(iou, 'f', 3, 64)
		}
	}
	return s
}

// thresholdValue is the slider position: the chosen threshold, or the one
// the selected item was scored with by default.
func (c *Root) thresholdValue() string {
	v := c.Settings.PixelThreshold
	if v == 0 && c.Selected != nil && c.Selected.Result != nil {
		v = c.Selected.Result.PixelThreshold
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func (c *Root) opacityValue() string { return strconv.FormatFloat(c.Settings.Alpha, 'f', 2, 64) }

func (c *Root) onThreshold(e vugu.DOMEvent) {
	v, err := strconv.ParseFloat(e.PropString("target", "value"), 64)
	if err != nil || !(v > 0) {
		c.say("error", "pixel threshold %q: must be a number > 0", e.PropString("target", "value"))
		return
	}
	c.Settings.PixelThreshold = v
	c.refresh()
}

func (c *Root) onOpacity(e vugu.DOMEvent) {
	v, err := strconv.ParseFloat(e.PropString("target", "value"), 64)
	if err != nil || v < 0 || v > 1 {
		return
	}
	c.Settings.Alpha = v
	c.recompose()
}

func (c *Root) onColormap(e vugu.DOMEvent) {
	c.Settings.Colormap = e.PropString("target", "value")
	c.recompose()
}

func (c *Root) onShow(e vugu.DOMEvent, gt bool) {
	if gt {
		c.ShowGT = e.PropBool("target", "checked")
	} else {
		c.ShowPred = e.PropBool("target", "checked")
	}
	c.recompose()
}
