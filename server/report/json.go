package report

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// WriteJSON writes v as indented JSON to path, with NaN and ±Inf floats as
// null (see MarshalFinite).
func WriteJSON(path string, v any) error {
	buf, err := MarshalFinite(v)
	if err != nil {
		return fmt.Errorf("write json %s: %w", path, err)
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(buf)
		return err
	})
}

// MarshalFinite is json.MarshalIndent (two spaces, trailing newline) except
// that NaN and ±Inf float32/float64 values become null instead of an error:
// evaluation results hold NaN for undefined metrics (one-class products).
// It follows encoding/json's rules for struct tags (name, omitempty, "-"),
// embedded structs, map key order, json.Marshaler and
// encoding.TextMarshaler; the ",string" option is not supported. HTML
// characters are not escaped.
func MarshalFinite(v any) ([]byte, error) {
	var buf bytes.Buffer
	e := finiteEncoder{buf: &buf}
	if err := e.encode(reflect.ValueOf(v), 0); err != nil {
		return nil, fmt.Errorf("marshal json: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("marshal json: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// maxDepth stops pointer cycles, which encoding/json also rejects.
const maxDepth = 1000

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

type finiteEncoder struct{ buf *bytes.Buffer }

func (e finiteEncoder) encode(v reflect.Value, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nesting deeper than %d (a pointer cycle?)", maxDepth)
	}
	if !v.IsValid() {
		e.buf.WriteString("null")
		return nil
	}
	t := v.Type()
	if t.Implements(marshalerType) || (v.CanAddr() && reflect.PointerTo(t).Implements(marshalerType)) {
		return e.marshaler(v)
	}
	if t.Implements(textMarshalerType) || (v.CanAddr() && reflect.PointerTo(t).Implements(textMarshalerType)) {
		return e.textMarshaler(v)
	}
	switch v.Kind() {
	case reflect.Bool:
		e.buf.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		return e.float(v)
	case reflect.String:
		e.string(v.String())
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			e.buf.WriteString("null")
			return nil
		}
		return e.encode(v.Elem(), depth+1)
	case reflect.Slice:
		if v.IsNil() {
			e.buf.WriteString("null")
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 && !t.Elem().Implements(marshalerType) && !t.Elem().Implements(textMarshalerType) {
			// []byte is base64 text, as encoding/json writes it.
			b, err := json.Marshal(v.Bytes())
			e.buf.Write(b)
			return err
		}
		return e.array(v, depth)
	case reflect.Array:
		return e.array(v, depth)
	case reflect.Map:
		return e.mapping(v, depth)
	case reflect.Struct:
		return e.object(v, depth)
	default:
		return fmt.Errorf("unsupported type %s", t)
	}
	return nil
}

func (e finiteEncoder) marshaler(v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() || v.Kind() == reflect.Interface && v.IsNil() {
		e.buf.WriteString("null")
		return nil
	}
	m, ok := v.Interface().(json.Marshaler)
	if !ok {
		m = v.Addr().Interface().(json.Marshaler)
	}
	b, err := m.MarshalJSON()
	if err != nil {
		return fmt.Errorf("%s.MarshalJSON: %w", v.Type(), err)
	}
	// Compact also validates what the method returned.
	if err := json.Compact(e.buf, b); err != nil {
		return fmt.Errorf("%s.MarshalJSON: %w", v.Type(), err)
	}
	return nil
}

func (e finiteEncoder) textMarshaler(v reflect.Value) error {
	if v.Kind() == reflect.Pointer && v.IsNil() || v.Kind() == reflect.Interface && v.IsNil() {
		e.buf.WriteString("null")
		return nil
	}
	m, ok := v.Interface().(encoding.TextMarshaler)
	if !ok {
		m = v.Addr().Interface().(encoding.TextMarshaler)
	}
	b, err := m.MarshalText()
	if err != nil {
		return fmt.Errorf("%s.MarshalText: %w", v.Type(), err)
	}
	e.string(string(b))
	return nil
}

func (e finiteEncoder) float(v reflect.Value) error {
	f := v.Float()
	if math.IsNaN(f) || math.IsInf(f, 0) {
		e.buf.WriteString("null")
		return nil
	}
	// encoding/json's number formatting, float32 at its own precision.
	var b []byte
	var err error
	if v.Kind() == reflect.Float32 {
		b, err = json.Marshal(float32(f))
	} else {
		b, err = json.Marshal(f)
	}
	e.buf.Write(b)
	return err
}

func (e finiteEncoder) string(s string) {
	enc := json.NewEncoder(e.buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	e.buf.Truncate(e.buf.Len() - 1)
}

func (e finiteEncoder) array(v reflect.Value, depth int) error {
	e.buf.WriteByte('[')
	for i := range v.Len() {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		if err := e.encode(v.Index(i), depth+1); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
	}
	e.buf.WriteByte(']')
	return nil
}

func (e finiteEncoder) mapping(v reflect.Value, depth int) error {
	if v.IsNil() {
		e.buf.WriteString("null")
		return nil
	}
	type entry struct {
		key string
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return err
		}
		entries = append(entries, entry{k, it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	e.buf.WriteByte('{')
	for i, en := range entries {
		if i > 0 {
			e.buf.WriteByte(',')
		}
		e.string(en.key)
		e.buf.WriteByte(':')
		if err := e.encode(en.val, depth+1); err != nil {
			return fmt.Errorf("[%q]: %w", en.key, err)
		}
	}
	e.buf.WriteByte('}')
	return nil
}

// mapKey follows encoding/json: string kinds as is, then TextMarshaler,
// then integers in decimal.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		if err != nil {
			return "", fmt.Errorf("map key %v: %w", k, err)
		}
		return string(b), nil
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("unsupported map key type %s", k.Type())
}

func (e finiteEncoder) object(v reflect.Value, depth int) error {
	e.buf.WriteByte('{')
	first := true
	for _, f := range structFields(v.Type()) {
		fv, ok := fieldByIndex(v, f.index)
		if !ok || f.omitEmpty && isEmpty(fv) {
			continue
		}
		if !first {
			e.buf.WriteByte(',')
		}
		first = false
		e.string(f.name)
		e.buf.WriteByte(':')
		if err := e.encode(fv, depth+1); err != nil {
			return fmt.Errorf(".%s: %w", f.name, err)
		}
	}
	e.buf.WriteByte('}')
	return nil
}

type field struct {
	name      string
	index     []int
	tagged    bool
	omitEmpty bool
}

// structFields lists the JSON fields of t in encoding/json's order and with
// its dominance rule: among fields of one name the shallowest wins, a
// tagged one breaking a tie; remaining ties drop the name.
func structFields(t reflect.Type) []field {
	var all []field
	var walk func(t reflect.Type, index []int, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, index []int, seen map[reflect.Type]bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(slices.Clone(index), i)
			ft := sf.Type
			if sf.Anonymous {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
				if name == "" && ft.Kind() == reflect.Struct {
					walk(ft, idx, seen)
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			f := field{name: name, index: idx, tagged: name != ""}
			if name == "" {
				f.name = sf.Name
			}
			for o := range strings.SplitSeq(opts, ",") {
				if o == "omitempty" {
					f.omitEmpty = true
				}
			}
			all = append(all, f)
		}
	}
	walk(t, nil, map[reflect.Type]bool{})

	var out []field
	for _, f := range all {
		dominant := true
		for _, g := range all {
			if g.name != f.name || slices.Equal(g.index, f.index) {
				continue
			}
			switch {
			case len(g.index) < len(f.index):
				dominant = false
			case len(g.index) == len(f.index) && (g.tagged || !f.tagged):
				dominant = false
			}
		}
		if dominant {
			out = append(out, f)
		}
	}
	return out
}

// fieldByIndex is v.FieldByIndex that reports a nil embedded pointer
// (whose fields encoding/json omits) instead of panicking.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
