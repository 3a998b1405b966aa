package cli

import (
	"reflect"
	"strings"
	"testing"

	"dapo/server/modelinit"
	"dapo/server/weights"
)

func TestModelInitTiny(t *testing.T) {
	dir := t.TempDir() + "/tiny"
	out, err := runCLI(t, "model", "init", "--config", "tiny", "--seed", "3", "--out", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "wrote "+dir) {
		t.Errorf("output %q", out)
	}
	b, err := weights.Open(dir, weights.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	want, err := modelinit.Config("tiny")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b.Config, want) {
		t.Errorf("config %+v, want %+v", b.Config, want)
	}

	// A second run into the same folder needs --force.
	if _, err := runCLI(t, "model", "init", "--config", "tiny", "--out", dir); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwrite without --force: %v", err)
	}
	if out, err := runCLI(t, "model", "init", "--config", "tiny", "--out", dir, "--force", "--dtype", "bf16"); err != nil {
		t.Errorf("--force: %v\n%s", err, out)
	}
}

func TestModelInitErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"init", "--config", "tiny", "--out", dir + "/a", "--dtype", "f8"}, "--dtype"},
		{[]string{"init", "--config", "ViT-X", "--out", dir + "/b"}, "built-in"},
		{[]string{"init", "--config", "tiny"}, "out"},
	} {
		if _, err := runCLI(t, append([]string{"model"}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want an error about %q, got %v", c.args, c.want, err)
		}
	}
}

func TestModelInitHelpListsConfigs(t *testing.T) {
	out, err := runCLI(t, "model", "init", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range modelinit.Names() {
		if !strings.Contains(out, n) {
			t.Errorf("help does not list %s", n)
		}
	}
}
