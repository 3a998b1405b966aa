package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"dapo/server/api"
	"dapo/server/hub"
)

func newServeCmd() *cobra.Command {
	var (
		f                          detectFlags
		addr, token, maxBody, cors string
		static                     string
		workers, queue             int
		timeout                    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve --model DIR --checkpoint CKPT [--addr HOST:PORT]",
		Short: "Serve detection, feature bundles, bundle scoring, text features and the app over HTTP",
		Long: `Loads a checkpoint once and answers HTTP requests (docs/api.md):

  POST /v1/detect     image -> the JSON of 'dapo detect' (?maps=1 adds PNGs)
  POST /v1/features   image -> feature bundle (?f16=1)
  POST /v1/score      feature bundle -> scores, defect types (?maps=1 adds PNGs),
                      re-scored without the model, as the Worker does
  POST /v1/text       ["crack","rust"] -> class text features for new words
  GET  /v1/info       backbone, checkpoint, classes, thresholds, limits
  GET  /healthz       liveness; GET /metrics: Prometheus text format
  GET  /              --static files (the browser app: make ui, or the
                      demo's site with its gallery), else an index page

Images are sent as a raw image/png or image/jpeg body or as the multipart
field "image". The model is shared and not assumed safe for concurrent
use: --workers requests run it at a time, --queue more wait, and beyond
that requests get 503 with Retry-After. Each request has --timeout, waiting
included (504). With --token, /v1/* and /metrics require
"Authorization: Bearer TOKEN"; /healthz and / stay public. Thresholds come
from <checkpoint>.thresholds.json when 'dapo calibrate' wrote one, else the
defaults; requests may override them. Stops gracefully on SIGINT.`,
		Example: `  dapo serve --model ViT-L-14-336 --checkpoint dapo.safetensors
  dapo serve --addr 0.0.0.0:8080 --model ViT-L-14-336 --checkpoint dapo.safetensors \
      --token "$DAPO_TOKEN" --workers 2 --cors https://app.example --static build/ui
  curl -s --data-binary @part.png -H 'Content-Type: image/png' localhost:8080/v1/detect`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := parseByteSize(maxBody)
			if err != nil {
				return fmt.Errorf("--max-body: %w", err)
			}
			if workers < 0 || queue < 0 {
				return errors.New("--workers and --queue must not be negative")
			}
			if timeout <= 0 {
				return errors.New("--timeout must be positive")
			}
			det, err := f.open(cmd, nil)
			if err != nil {
				return err
			}
			defer det.Close()
			thr, err := resolveThresholds(cmd, f.checkpoint, -1, -1, len(det.Config.FeatureLayers))
			if err != nil {
				return err
			}
			cache, err := hub.CacheDir()
			if err != nil {
				return err
			}
			if workers == 0 {
				workers = runtime.GOMAXPROCS(0)
			}
			if !cmd.Flags().Changed("queue") {
				queue = 2 * workers
			}
			srv, err := api.New(det, api.Options{
				CheckpointName: filepath.Base(f.checkpoint), CheckpointID: checkpointID(f.checkpoint),
				Thresholds: thr, Token: token, MaxBody: body, Workers: workers, Queue: queue,
				Timeout: timeout, CORSOrigin: cors, StaticDir: static,
				TextCacheDir: filepath.Join(cache, "text"), Logger: slog.Default(),
			})
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			slog.Info("serving", "url", "http://"+ln.Addr().String()+"/", "classes", det.Classes(), "workers", workers, "queue", queue, "auth", token != "")
			if err := srv.Serve(cmd.Context(), ln); err != nil {
				return err
			}
			slog.Info("server stopped")
			return nil
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one)")
	fl.StringVar(&token, "token", "", "require 'Authorization: Bearer TOKEN' on /v1/* and /metrics")
	fl.StringVar(&maxBody, "max-body", "32MB", "largest request body (e.g. 32MB, 512KiB)")
	fl.IntVar(&workers, "workers", 0, "requests running the model at once (default GOMAXPROCS)")
	fl.IntVar(&queue, "queue", 0, "requests waiting for a worker before 503 (default 2×workers)")
	fl.DurationVar(&timeout, "timeout", 60*time.Second, "per-request time limit, queueing included")
	fl.StringVar(&cors, "cors", "", "allowed browser origin for CORS ('*' for any; empty: no CORS)")
	fl.StringVar(&static, "static", "", "folder served at / (the browser app)")
	return cmd
}

// parseByteSize reads sizes like "32MB", "512KiB", "1048576".
func parseByteSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	units := []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 || n*float64(mult) > 1<<40 {
		return 0, fmt.Errorf("size %q: want a positive number with an optional unit (KB, MB, GB, KiB, MiB, GiB)", s)
	}
	return int64(n * float64(mult)), nil
}
