//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall/js"
)

// rawJSBody is what syumai/workers' request bodies offer besides Read: the
// JavaScript ReadableStream itself.
type rawJSBody interface{ GetRawJSBody() js.Value }

// wholeBodies reads request bodies of known length in one piece. The
// library's reader crosses from Go to JavaScript and back (a promise, a
// callback, a copy) for every chunk of the stream, which made reading a
// 17 MB bundle take about a second under workerd; one arrayBuffer() call and
// copies straight into the caller's buffer take a fraction of that. Bodies
// without a length keep the streaming reader, so the API's size cap still
// stops them early; those with one are refused above the cap before any
// read.
func wholeBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if raw, ok := r.Body.(rawJSBody); ok && r.ContentLength > 0 {
			r.Body = &wholeBody{stream: raw.GetRawJSBody(), orig: r.Body}
		}
		next.ServeHTTP(w, r)
	})
}

// wholeBody loads the stream into a JavaScript Uint8Array on the first Read
// and copies from it; Go memory holds only what the caller reads into.
type wholeBody struct {
	stream js.Value
	orig   io.Closer
	data   js.Value // Uint8Array, once loaded
	off    int
	err    error
}

func (b *wholeBody) Read(p []byte) (int, error) {
	if b.data.IsUndefined() && b.err == nil {
		ab, err := await(js.Global().Get("Response").New(b.stream).Call("arrayBuffer"))
		if err != nil {
			b.err = fmt.Errorf("read request body: %w", err)
		} else {
			b.data = js.Global().Get("Uint8Array").New(ab)
		}
	}
	if b.err != nil {
		return 0, b.err
	}
	n := b.data.Length() - b.off
	if n == 0 {
		return 0, io.EOF
	}
	n = min(n, len(p))
	js.CopyBytesToGo(p[:n], b.data.Call("subarray", b.off, b.off+n))
	b.off += n
	return n, nil
}

func (b *wholeBody) Close() error {
	if b.data.IsUndefined() && b.err == nil {
		return b.orig.Close() // never read: let the library cancel the stream
	}
	b.data = js.Null() // release the JavaScript copy
	return nil
}

// await blocks the calling goroutine until promise settles; the Go runtime
// keeps serving JavaScript callbacks meanwhile.
func await(promise js.Value) (js.Value, error) {
	done := make(chan struct{})
	var val js.Value
	var err error
	then := js.FuncOf(func(_ js.Value, args []js.Value) any {
		val = args[0]
		close(done)
		return nil
	})
	defer then.Release()
	catch := js.FuncOf(func(_ js.Value, args []js.Value) any {
		err = errors.New(args[0].Call("toString").String())
		close(done)
		return nil
	})
	defer catch.Release()
	promise.Call("then", then, catch)
	<-done
	return val, err
}
