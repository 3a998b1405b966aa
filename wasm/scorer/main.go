//go:build js && wasm

// Command scorer is DAPO's browser scoring module: it registers a global
// `dapo` object with score(bundle, options) and version, then signals that
// it is ready (globalThis.dapoReady = true and onDapoReady(), if defined).
package main

import (
	"fmt"
	"syscall/js"

	"dapo/wasm/scoreapi"
)

// throwing wraps a Go function that returns an Error object on failure into
// one that throws it: a Go callback cannot throw into JavaScript itself, and
// a panic in it would stop the Go runtime.
const throwing = `return function (...args) {
	const r = impl(...args);
	if (r instanceof Error) throw r;
	return r;
};`

func main() {
	wrap := js.Global().Get("Function").New("impl", throwing)
	api := js.Global().Get("Object").New()
	api.Set("version", scoreapi.Version())
	api.Set("score", wrap.Invoke(js.FuncOf(score)))
	js.Global().Set("dapo", api)
	js.Global().Set("dapoReady", true)
	if cb := js.Global().Get("onDapoReady"); cb.Type() == js.TypeFunction {
		cb.Invoke()
	}
	select {}
}

// score is dapo.score(bundle: Uint8Array, options?: object). It returns the
// result object, or an Error (thrown by the wrapper); panics are recovered.
func score(_ js.Value, args []js.Value) (ret any) {
	defer func() {
		if r := recover(); r != nil {
			ret = jsError(fmt.Errorf("dapo: internal error: %v", r))
		}
	}()
	res, err := scoreArgs(args)
	if err != nil {
		return jsError(err)
	}
	return toJS(res)
}

func jsError(err error) js.Value {
	return js.Global().Get("Error").New(err.Error())
}
