package main

import "image"

// File is a dropped or opened file, read into memory.
type File struct {
	Name string
	Data []byte
}

// Host is what the app needs from the page. The syscall/js implementation
// lives in host_js.go; keeping it behind this interface lets the component
// code build (and be vetted) natively.
type Host interface {
	// PageURL is the page's address, the base for gallery/index.json.
	PageURL() string
	// Fetch GETs url; it blocks, so call it from a goroutine, never from
	// an event handler. A non-2xx status is an error that names it.
	Fetch(url string) ([]byte, error)
	// Post sends body with the content type and returns the response body.
	Post(url, contentType string, body []byte) ([]byte, error)
	// Draw puts img on the canvas with id; gen identifies img, so the same
	// frame is copied into JavaScript once however often it is redrawn.
	Draw(canvasID string, gen int, img *image.RGBA)
	// Download offers data to the user as a file.
	Download(name, mime string, data []byte)
	// OnFiles registers the handler for files dropped on the page or
	// chosen in the file input (#file-input); it is called from a
	// goroutine once the files are read.
	OnFiles(handler func([]File))
}
