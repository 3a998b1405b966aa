package hub

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"dapo/shared/safetensors"
)

// TensorInfo is one tensor of an inspected file.
type TensorInfo struct {
	Name     string `json:"name"`
	DType    string `json:"dtype"`
	Shape    []int  `json:"shape"`
	Elements int64  `json:"elements"`
}

// Inventory lists a safetensors file's tensors (sorted by name), its
// __metadata__ and totals.
type Inventory struct {
	File          string            `json:"file"`
	Metadata      map[string]string `json:"metadata"`
	Tensors       []TensorInfo      `json:"tensors"`
	TotalElements int64             `json:"total_elements"`
	TotalBytes    int64             `json:"total_bytes"`
	BytesByDType  map[string]int64  `json:"bytes_by_dtype"`
}

// Inspect describes the safetensors file at path.
func Inspect(path string) (*Inventory, error) {
	buf, release, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	defer release()
	inv, err := InspectBytes(path, buf)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	return inv, nil
}

// InspectBytes describes a safetensors buffer; name is recorded as File.
func InspectBytes(name string, buf []byte) (*Inventory, error) {
	f, err := safetensors.Parse(buf)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{File: name, Metadata: map[string]string{}, Tensors: []TensorInfo{}, BytesByDType: map[string]int64{}}
	for k, v := range f.Metadata {
		inv.Metadata[k] = v
	}
	for _, n := range f.Names() {
		info, _ := f.Info(n)
		t := TensorInfo{Name: n, DType: string(info.DType), Shape: info.Shape, Elements: int64(info.NumElements())}
		inv.Tensors = append(inv.Tensors, t)
		inv.TotalElements += t.Elements
		inv.TotalBytes += info.End - info.Begin
		inv.BytesByDType[t.DType] += info.End - info.Begin
	}
	return inv, nil
}

// WriteText prints the inventory as a table followed by totals.
func (inv *Inventory) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file: %s\n", inv.File)
	if len(inv.Metadata) > 0 {
		fmt.Fprintln(tw, "metadata:")
		keys := make([]string, 0, len(inv.Metadata))
		for k := range inv.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "  %s: %s\n", k, inv.Metadata[k])
		}
	}
	fmt.Fprintln(tw, "\nNAME\tDTYPE\tSHAPE\tELEMENTS")
	for _, t := range inv.Tensors {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", t.Name, t.DType, shapeString(t.Shape), t.Elements)
	}
	fmt.Fprintf(tw, "\ntensors: %d\nparameters: %d (%s)\n", len(inv.Tensors), inv.TotalElements, humanCount(inv.TotalElements))
	dts := make([]string, 0, len(inv.BytesByDType))
	for d := range inv.BytesByDType {
		dts = append(dts, d)
	}
	sort.Strings(dts)
	for _, d := range dts {
		fmt.Fprintf(tw, "bytes %s: %d (%s)\n", d, inv.BytesByDType[d], humanBytes(inv.BytesByDType[d]))
	}
	fmt.Fprintf(tw, "bytes total: %d (%s)\n", inv.TotalBytes, humanBytes(inv.TotalBytes))
	return tw.Flush()
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.2fK", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.2f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
