//go:build !js

package main

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"dapo/shared/bundle/bundletest"
	"dapo/wasm/scoreapi"
)

// nodeScript loads the module like a page would, scores the golden bundle,
// checks that bad input throws and times the ViT-L/14@518 bundle.
const nodeScript = `
const fs = require("fs");
const [wasmExec, wasmPath, goldenPath, vitPath, outDir] = process.argv.slice(2);
globalThis.require = require;
globalThis.fs = fs;
require(wasmExec);
(async () => {
  const ready = new Promise((resolve) => { globalThis.onDapoReady = resolve; });
  const go = new Go();
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmPath), go.importObject);
  go.run(instance);
  await ready;
  const out = { version: dapo.version, ready: globalThis.dapoReady === true };
  const r = dapo.score(new Uint8Array(fs.readFileSync(goldenPath)));
  fs.writeFileSync(outDir + "/map.f32", Buffer.from(r.anomalyMap.buffer, r.anomalyMap.byteOffset, r.anomalyMap.byteLength));
  fs.writeFileSync(outDir + "/mask.u8", r.mask);
  fs.writeFileSync(outDir + "/class.u8", r.pixelClass);
  let sum = 0;
  for (const v of r.anomalyMap) sum += v;
  Object.assign(out, {
    score: r.score, verdict: r.verdict, topDefect: r.topDefect, topDefectInMask: r.topDefectInMask,
    defectTypes: r.defectTypes, classes: r.classes, size: r.size, width: r.width, height: r.height,
    mapSum: sum, mapFirst: Array.from(r.anomalyMap.slice(0, 4)),
    heatmapPNG: r.heatmapPNG.length, maskPNG: r.maskPNG.length,
    pngMagic: r.heatmapPNG[1] === 0x50 && r.maskPNG[1] === 0x50,
  });
  out.errors = [];
  const bad = [
    () => dapo.score(new Uint8Array([1, 2, 3])),
    () => dapo.score("not bytes"),
    () => dapo.score(new Uint8Array(fs.readFileSync(goldenPath)), { subset: ["no-such-defect"] }),
    () => dapo.score(new Uint8Array(fs.readFileSync(goldenPath)), { pixelThreshold: "high" }),
  ];
  for (const f of bad) {
    try { f(); out.errors.push(null); } catch (e) { out.errors.push(e instanceof Error ? e.message : String(e)); }
  }
  out.scoreAfterErrors = dapo.score(new Uint8Array(fs.readFileSync(goldenPath))).score;
  const vit = new Uint8Array(fs.readFileSync(vitPath));
  dapo.score(vit);
  const n = 5, t0 = performance.now();
  for (let i = 0; i < n; i++) dapo.score(vit);
  out.vitMsPerCall = (performance.now() - t0) / n;
  console.log(JSON.stringify(out));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
`

type nodeOut struct {
	Version          string
	Ready            bool
	Score            float64
	Verdict          string
	TopDefect        string
	TopDefectInMask  *string
	DefectTypes      []scoreapi.DefectType
	Classes          []string
	Size             int
	Width, Height    int
	MapSum           float64
	MapFirst         []float32
	HeatmapPNG       int
	MaskPNG          int
	PNGMagic         bool
	Errors           []*string
	ScoreAfterErrors float64
	VitMsPerCall     float64
}

func TestNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: skipping the js/wasm module test")
	}
	g := bundletest.LoadGolden(t, 0)
	want, err := scoreapi.Score(g.Bundle, scoreapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wasm := filepath.Join(dir, "scorer.wasm")
	build := exec.Command("go", "build", "-o", wasm, ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build: %v\n%s", err, out)
	}
	st, err := os.Stat(wasm)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scorer.wasm: %d bytes", st.Size())
	vit, err := bundletest.RandomBundle(1, bundletest.ViTL518)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	script := write("run.js", []byte(nodeScript))
	golden := write("golden.safetensors", g.Bundle)
	vitPath := write("vit.safetensors", vit)
	wasmExec := filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js")
	cmd := exec.Command(node, script, wasmExec, wasm, golden, vitPath, dir)
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, raw)
	}
	var got nodeOut
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("node output %q: %v", raw, err)
	}

	if !got.Ready || got.Version != scoreapi.Version() {
		t.Errorf("ready %v, version %q (native %q)", got.Ready, got.Version, scoreapi.Version())
	}
	if got.Score != want.Score || got.Verdict != want.Verdict || got.TopDefect != want.TopDefect {
		t.Errorf("wasm score %v %s %q, native %v %s %q", got.Score, got.Verdict, got.TopDefect, want.Score, want.Verdict, want.TopDefect)
	}
	if got.TopDefectInMask == nil || *got.TopDefectInMask != want.TopDefectInMask {
		t.Errorf("topDefectInMask %v, native %q", got.TopDefectInMask, want.TopDefectInMask)
	}
	if len(got.DefectTypes) != len(want.DefectTypes) || got.DefectTypes[0] != want.DefectTypes[0] {
		t.Errorf("defect types differ: wasm %v, native %v", got.DefectTypes, want.DefectTypes)
	}
	if got.Size != want.Size || got.Width != want.Width || got.Height != want.Height || !got.PNGMagic ||
		got.HeatmapPNG != len(want.HeatmapPNG) || got.MaskPNG != len(want.MaskPNG) {
		t.Errorf("geometry/PNGs: wasm %+v", got)
	}
	m := readFloats(t, filepath.Join(dir, "map.f32"))
	var maxDiff float64
	for i := range want.AnomalyMap {
		maxDiff = math.Max(maxDiff, math.Abs(float64(m[i]-want.AnomalyMap[i])))
	}
	if len(m) != len(want.AnomalyMap) || maxDiff > 0 {
		t.Errorf("anomaly map: %d values, max |wasm - native| %g", len(m), maxDiff)
	}
	for name, w := range map[string][]byte{"mask.u8": want.Mask, "class.u8": want.PixelClass} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != string(w) {
			t.Errorf("%s differs from native (%v)", name, err)
		}
	}
	wantErr := []string{"bundle", "uint8array", "unknown class", "must be a number"}
	for i, e := range got.Errors {
		if e == nil || !strings.Contains(strings.ToLower(*e), wantErr[i]) {
			t.Errorf("bad input %d: thrown %v, want an Error mentioning %q", i, e, wantErr[i])
		}
	}
	if got.ScoreAfterErrors != want.Score {
		t.Errorf("score after errors %v, want %v", got.ScoreAfterErrors, want.Score)
	}
	t.Logf("wasm: score %.6f (%s), map sum %.6f, first %v; ViT-L/14@518 bundle: %.1f ms per dapo.score call",
		got.Score, got.Verdict, got.MapSum, got.MapFirst, got.VitMsPerCall)
}

func readFloats(t *testing.T, path string) []float32 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}
