package bundle

import (
	"testing"

	"dapo/shared/safetensors"
)

// FuzzDecode checks that Decode never panics, and that whatever it accepts
// re-encodes and decodes again.
func FuzzDecode(f *testing.F) {
	f.Add(mustEncode(f, testBundle(4, 2, 1, 2, 1), safetensors.F32))
	f.Add(mustEncode(f, testBundle(3, 1, 2, 3, 2), safetensors.F16))
	f.Add([]byte{})
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Decode(data)
		if err != nil {
			return
		}
		again, err := Encode(b, safetensors.F32)
		if err != nil {
			t.Fatalf("decoded bundle does not re-encode: %v", err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded bundle does not decode: %v", err)
		}
	})
}
