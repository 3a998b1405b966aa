package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"dapo/ui/inspect"
)

// loadGallery reads gallery/index.json beside the page and loads its
// items one by one, showing each as soon as it is scored. A missing index
// is normal (a bare app, a static host): it only leaves a hint.
func (c *Root) loadGallery() {
	indexURL, err := url.JoinPath(dirURL(c.host.PageURL()), "gallery/index.json")
	if err == nil {
		var data []byte
		if data, err = c.host.Fetch(indexURL); err == nil {
			var entries []inspect.IndexEntry
			if entries, err = inspect.ParseIndex(data, indexURL); err == nil {
				c.loadEntries(entries)
				return
			}
			c.locked(func() { c.say("error", "%v", err) })
		}
	}
	c.locked(func() {
		c.GalleryHint = "No gallery here (gallery/index.json). Open or drop feature bundles or images."
	})
}

func (c *Root) loadEntries(entries []inspect.IndexEntry) {
	c.locked(func() { c.GalleryHint = fmt.Sprintf("Loading %d items…", len(entries)) })
	var failed []string
	for _, e := range entries {
		data, err := c.host.Fetch(e.BundleURL)
		var it *inspect.Item
		if err == nil {
			it, err = inspect.NewItem(e.Name, lastSegment(e.BundleURL), data)
		}
		var mask []byte
		if err == nil && e.MaskURL != "" {
			mask, err = c.host.Fetch(e.MaskURL)
		}
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", e.Name, err))
			continue
		}
		c.locked(func() {
			if mask != nil {
				if err := it.SetGT(lastSegment(e.MaskURL), mask); err != nil {
					failed = append(failed, err.Error())
				}
			}
			c.add(it)
		})
	}
	c.locked(func() {
		c.GalleryHint = "The gallery is empty."
		if len(failed) > 0 {
			c.say("error", "Could not load %d gallery items: %s", len(failed), strings.Join(failed, "; "))
		}
	})
}

// locked runs f under the event environment's lock and re-renders.
func (c *Root) locked(f func()) {
	c.env.Lock()
	defer c.env.UnlockRender()
	f()
}

// openFiles handles dropped or opened files: bundles are scored here,
// masks attached to the item they name, other images sent to the server to
// be encoded.
func (c *Root) openFiles(files []File) {
	var notes []string
	var images []File
	c.locked(func() {
		for _, f := range files {
			switch inspect.Classify(f.Name) {
			case inspect.KindBundle:
				it, err := inspect.NewItem("", f.Name, f.Data)
				if err != nil {
					notes = append(notes, err.Error())
					continue
				}
				c.add(it)
				c.selectItem(it)
			case inspect.KindMask:
				i, err := inspect.MatchMask(f.Name, c.Items)
				if err == nil {
					err = c.Items[i].SetGT(f.Name, f.Data)
				}
				if err != nil {
					notes = append(notes, err.Error())
					continue
				}
				c.selectItem(c.Items[i])
			case inspect.KindImage:
				images = append(images, f)
			default:
				notes = append(notes, f.Name+": not an image, mask or feature bundle")
			}
		}
	})
	for _, f := range images {
		it, err := c.encode(f)
		c.locked(func() {
			if err != nil {
				notes = append(notes, err.Error())
				return
			}
			c.add(it)
			c.selectItem(it)
		})
	}
	c.locked(func() {
		if len(notes) > 0 {
			c.say("error", "%s", strings.Join(notes, " · "))
		} else {
			c.say("info", "Opened %d file(s).", len(files))
		}
	})
}

// errNoServer explains what works without the server.
var errNoServer = errors.New("encoding images needs the dapo server (dapo serve); without it, open or drop feature bundles (*.bundle.safetensors) instead")

// encode POSTs an image to /v1/features on the page's origin and turns the
// returned bundle into an item.
func (c *Root) encode(f File) (*inspect.Item, error) {
	ct := "image/jpeg"
	if strings.HasSuffix(strings.ToLower(f.Name), ".png") {
		ct = "image/png"
	}
	u, err := url.Parse(c.host.PageURL())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	data, err := c.host.Post(u.Scheme+"://"+u.Host+"/v1/features", ct, f.Data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", f.Name, err, errNoServer)
	}
	it, err := inspect.NewItem(f.Name, inspect.Stem(f.Name)+inspect.BundleSuffix, data)
	if err != nil {
		return nil, fmt.Errorf("%s: the server's answer is not a bundle (%v): %w", f.Name, err, errNoServer)
	}
	return it, nil
}

// dirURL is the folder of a page URL ("…/app/index.html" → "…/app/"),
// without query or fragment.
func dirURL(page string) string {
	u, err := url.Parse(page)
	if err != nil {
		return page
	}
	u.RawQuery, u.Fragment = "", ""
	if i := strings.LastIndex(u.Path, "/"); i >= 0 {
		u.Path = u.Path[:i+1]
	}
	return u.String()
}

func lastSegment(u string) string {
	if i := strings.LastIndex(u, "/"); i >= 0 {
		return u[i+1:]
	}
	return u
}
