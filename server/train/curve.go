package train

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"

	"dapo/server/report"
)

// plot draws loss.png from the whole JSONL log (all sessions of a resumed
// run; a step logged twice — after a hard stop — keeps its last record).
func (r *run) plot() error {
	f, err := os.Open(filepath.Join(r.o.Out, "train_log.jsonl"))
	if err != nil {
		return err
	}
	defer f.Close()
	byStep := map[int]map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec map[string]float64
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			byStep[int(rec["step"])] = rec
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	steps := make([]int, 0, len(byStep))
	for s := range byStep {
		steps = append(steps, s)
	}
	sort.Ints(steps)
	names := []string{"loss.total", "loss.local", "loss.image_ce"}
	series := make([]report.Series, len(names))
	for i, n := range names {
		series[i].Name = n
		for _, s := range steps {
			series[i].X = append(series[i].X, float64(s))
			series[i].Y = append(series[i].Y, byStep[s][n])
		}
	}
	return report.LossPlot(filepath.Join(r.o.Out, "loss.png"), "DAPO training", series)
}
