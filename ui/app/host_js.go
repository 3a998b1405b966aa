//go:build js && wasm

package main

import (
	"fmt"
	"image"
	"syscall/js"
)

// jsHost implements Host with syscall/js.
type jsHost struct {
	doc js.Value
	// The last frame as an ImageData, keyed by its generation.
	gen  int
	data js.Value
}

func newJSHost() *jsHost { return &jsHost{doc: js.Global().Get("document"), gen: -1} }

func (h *jsHost) PageURL() string { return js.Global().Get("location").Get("href").String() }

// await blocks the calling goroutine until the promise settles. It must
// not run on the JavaScript event loop (inside a callback), which would
// deadlock.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- result{v: a[0]}; return nil })
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- result{err: fmt.Errorf("%s", js.Global().Get("String").Invoke(a[0]).String())}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	r := <-ch
	return r.v, r.err
}

func (h *jsHost) request(url string, init map[string]any) ([]byte, error) {
	var p js.Value
	if init == nil {
		p = js.Global().Call("fetch", url)
	} else {
		p = js.Global().Call("fetch", url, init)
	}
	resp, err := await(p)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("fetch %s: HTTP %d %s", url, resp.Get("status").Int(), resp.Get("statusText").String())
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: body: %w", url, err)
	}
	return bytesOf(buf), nil
}

func bytesOf(arrayBuffer js.Value) []byte {
	u8 := js.Global().Get("Uint8Array").New(arrayBuffer)
	b := make([]byte, u8.Length())
	js.CopyBytesToGo(b, u8)
	return b
}

func (h *jsHost) Fetch(url string) ([]byte, error) { return h.request(url, nil) }

func (h *jsHost) Post(url, contentType string, body []byte) ([]byte, error) {
	u8 := js.Global().Get("Uint8Array").New(len(body))
	js.CopyBytesToJS(u8, body)
	return h.request(url, map[string]any{
		"method": "POST", "body": u8, "headers": map[string]any{"Content-Type": contentType},
	})
}

func (h *jsHost) Draw(canvasID string, gen int, img *image.RGBA) {
	cv := h.doc.Call("getElementById", canvasID)
	if cv.IsNull() {
		return
	}
	w, ht := img.Rect.Dx(), img.Rect.Dy()
	if gen != h.gen {
		px := js.Global().Get("Uint8ClampedArray").New(len(img.Pix))
		js.CopyBytesToJS(px, img.Pix)
		h.data = js.Global().Get("ImageData").New(px, w, ht)
		h.gen = gen
	}
	// Setting the size clears the canvas even to the same value: only
	// when it differs.
	if cv.Get("width").Int() != w {
		cv.Set("width", w)
	}
	if cv.Get("height").Int() != ht {
		cv.Set("height", ht)
	}
	cv.Call("getContext", "2d").Call("putImageData", h.data, 0, 0)
	cv.Get("dataset").Set("drawn", gen) // lets tests wait for a frame
}

func (h *jsHost) Download(name, mime string, data []byte) {
	u8 := js.Global().Get("Uint8Array").New(len(data))
	js.CopyBytesToJS(u8, data)
	blob := js.Global().Get("Blob").New([]any{u8}, map[string]any{"type": mime})
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	a := h.doc.Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", name)
	h.doc.Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	// Revoking at once can cancel the download in some browsers.
	var revoke js.Func
	revoke = js.FuncOf(func(js.Value, []js.Value) any {
		js.Global().Get("URL").Call("revokeObjectURL", url)
		revoke.Release()
		return nil
	})
	js.Global().Call("setTimeout", revoke, 60000)
}

// OnFiles listens on the document: drops anywhere, and change events of
// #file-input (delegated, so vugu may re-create the input).
func (h *jsHost) OnFiles(handler func([]File)) {
	body := h.doc.Get("body")
	take := func(list js.Value) {
		files := make([]js.Value, list.Length())
		for i := range files {
			files[i] = list.Index(i)
		}
		go func() { handler(readFiles(files)) }()
	}
	h.doc.Call("addEventListener", "dragover", js.FuncOf(func(_ js.Value, a []js.Value) any {
		a[0].Call("preventDefault")
		a[0].Get("dataTransfer").Set("dropEffect", "copy")
		body.Get("classList").Call("add", "dragging")
		return nil
	}))
	h.doc.Call("addEventListener", "dragleave", js.FuncOf(func(_ js.Value, a []js.Value) any {
		body.Get("classList").Call("remove", "dragging")
		return nil
	}))
	h.doc.Call("addEventListener", "drop", js.FuncOf(func(_ js.Value, a []js.Value) any {
		a[0].Call("preventDefault")
		body.Get("classList").Call("remove", "dragging")
		take(a[0].Get("dataTransfer").Get("files"))
		return nil
	}))
	h.doc.Call("addEventListener", "change", js.FuncOf(func(_ js.Value, a []js.Value) any {
		t := a[0].Get("target")
		if t.Get("id").String() != "file-input" {
			return nil
		}
		take(t.Get("files"))
		t.Set("value", "") // so that the same file can be opened again
		return nil
	}))
}

// readFiles reads File objects into memory; a file that cannot be read is
// passed on empty (its loader reports the error).
func readFiles(files []js.Value) []File {
	out := make([]File, 0, len(files))
	for _, f := range files {
		buf, err := await(f.Call("arrayBuffer"))
		var data []byte
		if err == nil {
			data = bytesOf(buf)
		}
		out = append(out, File{Name: f.Get("name").String(), Data: data})
	}
	return out
}
