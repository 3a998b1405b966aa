//go:build js && wasm

package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"syscall/js"

	"dapo/wasm/scoreapi"
)

// scoreArgs reads (bundle, options) and runs the scoring.
func scoreArgs(args []js.Value) (*scoreapi.Result, error) {
	if len(args) < 1 || args[0].Type() != js.TypeObject || !args[0].InstanceOf(js.Global().Get("Uint8Array")) {
		return nil, errors.New("dapo.score: first argument must be a Uint8Array holding a bundle")
	}
	data := make([]byte, args[0].Get("length").Int())
	js.CopyBytesToGo(data, args[0])
	var opts scoreapi.Options
	if len(args) > 1 {
		var err error
		if opts, err = parseOptions(args[1]); err != nil {
			return nil, err
		}
	}
	return scoreapi.Score(data, opts)
}

// parseOptions reads the options object; undefined or null means defaults.
func parseOptions(o js.Value) (scoreapi.Options, error) {
	var opts scoreapi.Options
	if o.IsUndefined() || o.IsNull() {
		return opts, nil
	}
	if o.Type() != js.TypeObject {
		return opts, fmt.Errorf("dapo.score: options must be an object, got %s", o.Type())
	}
	var err error
	num := func(name string) *float64 {
		v := o.Get(name)
		if v.IsUndefined() || v.IsNull() || err != nil {
			return nil
		}
		if v.Type() != js.TypeNumber {
			err = fmt.Errorf("dapo.score: option %s must be a number, got %s", name, v.Type())
			return nil
		}
		f := v.Float()
		return &f
	}
	opts.PixelThreshold = num("pixelThreshold")
	opts.ImageThreshold = num("imageThreshold")
	opts.Alpha = num("alpha")
	if err != nil {
		return opts, err
	}
	if v := o.Get("colormap"); !v.IsUndefined() && !v.IsNull() {
		if v.Type() != js.TypeString {
			return opts, fmt.Errorf("dapo.score: option colormap must be a string, got %s", v.Type())
		}
		opts.Colormap = v.String()
	}
	if v := o.Get("subset"); !v.IsUndefined() && !v.IsNull() {
		if !js.Global().Get("Array").Call("isArray", v).Bool() {
			return opts, errors.New("dapo.score: option subset must be an array of class names")
		}
		for i := 0; i < v.Length(); i++ {
			s := v.Index(i)
			if s.Type() != js.TypeString {
				return opts, fmt.Errorf("dapo.score: subset[%d] must be a string, got %s", i, s.Type())
			}
			opts.Subset = append(opts.Subset, s.String())
		}
	}
	return opts, nil
}

// toJS builds the result object; maps and PNGs become typed arrays.
func toJS(r *scoreapi.Result) js.Value {
	o := js.Global().Get("Object").New()
	o.Set("score", r.Score)
	o.Set("verdict", r.Verdict)
	classes := make([]any, len(r.Classes))
	for i, c := range r.Classes {
		classes[i] = c
	}
	o.Set("classes", classes)
	types := make([]any, len(r.DefectTypes))
	for i, d := range r.DefectTypes {
		types[i] = map[string]any{"name": d.Name, "probability": d.Probability}
	}
	o.Set("defectTypes", types)
	o.Set("topDefect", r.TopDefect)
	if r.TopDefectInMask == "" {
		o.Set("topDefectInMask", js.Null())
	} else {
		o.Set("topDefectInMask", r.TopDefectInMask)
	}
	o.Set("size", r.Size)
	o.Set("width", r.Width)
	o.Set("height", r.Height)
	o.Set("pixelThreshold", r.PixelThreshold)
	o.Set("anomalyMap", float32Array(r.AnomalyMap))
	o.Set("mask", bytesArray(r.Mask))
	o.Set("pixelClass", bytesArray(r.PixelClass))
	o.Set("heatmapPNG", bytesArray(r.HeatmapPNG))
	o.Set("maskPNG", bytesArray(r.MaskPNG))
	if r.OverlayPNG != nil {
		o.Set("overlayPNG", bytesArray(r.OverlayPNG))
	} else {
		o.Set("overlayPNG", js.Null())
	}
	return o
}

func bytesArray(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// float32Array copies through the bytes: syscall/js has no float copy.
func float32Array(f []float32) js.Value {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return js.Global().Get("Float32Array").New(bytesArray(b).Get("buffer"))
}
