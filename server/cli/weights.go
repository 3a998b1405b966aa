package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"dapo/server/hub"
)

// newWeightsCmd groups the commands that fetch and describe backbone
// weights.
func newWeightsCmd() *cobra.Command {
	var known strings.Builder
	for _, m := range hub.Models() {
		fmt.Fprintf(&known, "  %-14s https://huggingface.co/%s\n", m.Name, m.HubRepo)
	}
	l := hub.Models()[0]
	cmd := &cobra.Command{
		Use:   "weights",
		Short: "Fetch and inspect CLIP backbone weights",
		Long: fmt.Sprintf(`dapo runs on a frozen CLIP backbone in open_clip's hub layout, a folder with
  %s   the model config
  %s   the weights

Known backbones (DAPO's reference setup uses ViT-L-14-336):
%s
'dapo weights pull NAME' downloads them into the cache; commands then take
--model NAME (looked up in the cache) or --model DIR (any folder in that
layout). 'dapo weights inspect FILE' lists the tensors of a safetensors file.

Cache: $DAPO_CACHE, else $XDG_CACHE_HOME/dapo, else ~/.cache/dapo. Each
backbone goes to <cache>/models/NAME with a manifest.json recording each
file's size and sha256.

No internet on this machine? On one that has it, download
  https://huggingface.co/%s/resolve/main/%s
  https://huggingface.co/%s/resolve/main/%s
into one folder (a browser, curl -L or 'dapo weights pull %s --cache DIR'
all work), copy the folder here and pass --model <folder>. Name the folder
after the hub repository (it ends in ".openai"): that is how dapo knows the
weights are OpenAI's, which were trained with QuickGELU.`,
			hub.ConfigFile, hub.WeightsFile, known.String(),
			l.HubRepo, hub.ConfigFile, l.HubRepo, hub.WeightsFile, l.Name),
		Example: `  dapo weights pull ViT-L-14-336
  dapo weights inspect ~/.cache/dapo/models/ViT-L-14-336/open_clip_model.safetensors`,
	}
	cmd.AddCommand(newWeightsPullCmd(), newWeightsInspectCmd())
	return cmd
}

func newWeightsPullCmd() *cobra.Command {
	var (
		opt    hub.Options
		source string
	)
	cmd := &cobra.Command{
		Use:   "pull NAME",
		Short: "Download a known CLIP backbone into the local cache",
		Long: fmt.Sprintf(`Downloads backbone NAME (one of %s; aliases such as
ViT-L-14-336-quickgelu and any letter case are accepted) into
<cache>/models/NAME.

With --source hub (the default) it fetches %s and
%s from Hugging Face: the files the backbone loader
reads. Their sha256 is computed while downloading and kept in manifest.json;
pulling again verifies the files against it and downloads nothing when they
match.

With --source openai it fetches OpenAI's original TorchScript checkpoint
(.pt) and checks it against the sha256 in its URL. It is only stored: the
loader does not read .pt files, so pull the hub source to run dapo.

Downloads resume where an interrupted one stopped (run the same command
again), are retried on network errors and land in place only when
complete. A progress bar is drawn on a terminal; otherwise progress is
logged every 10%%. HF_TOKEN, when set, is sent to the hub; DAPO_HUB_URL or
--hub-url points at a mirror.`, strings.Join(hub.ModelNames(), ", "), hub.ConfigFile, hub.WeightsFile),
		Example: `  dapo weights pull ViT-L-14-336
  dapo weights pull ViT-B-16 --cache /data/dapo-cache
  dapo weights pull ViT-L-14-336 --source openai
  HF_TOKEN=hf_... dapo weights pull ViT-L-14-336 --hub-url https://hf-mirror.example`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := hub.ParseSource(source)
			if err != nil {
				return err
			}
			opt.Source = src
			opt.Progress = cmd.ErrOrStderr()
			res, err := hub.Pull(cmd.Context(), args[0], opt)
			if err != nil {
				return err
			}
			return printPull(cmd.OutOrStdout(), res, opt.Cache)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Cache, "cache", "", "cache folder (default $DAPO_CACHE, $XDG_CACHE_HOME/dapo or ~/.cache/dapo)")
	f.StringVar(&source, "source", string(hub.SourceHub), "where to download from: hub (open_clip safetensors, what dapo reads) or openai (original .pt, stored only)")
	f.StringVar(&opt.HubURL, "hub-url", "", "Hugging Face endpoint or mirror (default $DAPO_HUB_URL, $HF_ENDPOINT or "+hub.DefaultHubURL+")")
	f.BoolVarP(&opt.Quiet, "quiet", "q", false, "no progress bar or progress messages")
	return cmd
}

func printPull(w io.Writer, res *hub.PullResult, cache string) error {
	fmt.Fprintf(w, "%s (%s) in %s\n", res.Model.Name, res.Source, res.Dir)
	for _, f := range res.Files {
		state := "downloaded"
		if f.Reused {
			state = "already present, verified"
		}
		fmt.Fprintf(w, "  %s  %d bytes  sha256 %s  (%s)\n", f.Name, f.Size, f.SHA256, state)
	}
	if res.Source == hub.SourceOpenAI {
		fmt.Fprintf(w, `The .pt checkpoint matches the sha256 in OpenAI's URL and is stored only:
dapo reads the hub files. Get them with: dapo weights pull %s
`, res.Model.Name)
		return nil
	}
	byName := "--model " + res.Model.Name
	if cache != "" {
		byName = fmt.Sprintf("DAPO_CACHE=%s ... --model %s", cache, res.Model.Name)
	}
	_, err := fmt.Fprintf(w, "Use it with %s, or --model %s\n", byName, res.Dir)
	return err
}

func newWeightsInspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "List the tensors of a safetensors file",
		Long: `Lists every tensor of a safetensors file (name, dtype, shape, element
count) in name order, then the totals: tensor count, parameter count and
bytes per dtype, and the file's __metadata__. The file is memory-mapped, so
a multi-gigabyte checkpoint is described without being read. A damaged or
truncated file is reported as such.

--json prints one object: {"file", "metadata", "tensors": [{"name",
"dtype", "shape", "elements"}], "total_elements", "total_bytes",
"bytes_by_dtype"}.`,
		Example: `  dapo weights inspect ~/.cache/dapo/models/ViT-L-14-336/open_clip_model.safetensors
  dapo weights inspect model.safetensors --json | jq '.tensors[].name'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			inv, err := hub.Inspect(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(inv)
			}
			return inv.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}
