package main

import (
	"dapo/shared/render"
	"dapo/ui/inspect"
)

func (c *Root) exportMask() {
	it := c.Selected
	if it == nil || it.Result == nil {
		return
	}
	r := it.Result
	data, err := render.MaskPNG(r.Mask, r.Size, r.Size)
	if err != nil {
		c.say("error", "mask PNG: %v", err)
		return
	}
	c.host.Download(inspect.ExportName(it, ".mask.png"), "image/png", data)
}

func (c *Root) exportReport() {
	it := c.Selected
	if it == nil {
		return
	}
	data, err := inspect.ReportJSON(it, c.Settings)
	if err != nil {
		c.say("error", "%v", err)
		return
	}
	c.host.Download(inspect.ExportName(it, ".report.json"), "application/json", data)
}
