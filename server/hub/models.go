package hub

import (
	"fmt"
	"sort"
	"strings"
)

// Files of open_clip's hub layout; the backbone loader reads these two.
const (
	ConfigFile  = "open_clip_config.json"
	WeightsFile = "open_clip_model.safetensors"
)

// Default download bases. Both can be overridden (Options, DAPO_HUB_URL,
// DAPO_OPENAI_URL) so that tests and mirrors never depend on these hosts.
const (
	DefaultHubURL    = "https://huggingface.co"
	DefaultOpenAIURL = "https://openaipublic.azureedge.net"
)

// Model is one known backbone.
type Model struct {
	// Name is the canonical name and the cache folder name.
	Name string
	// Aliases are other accepted spellings (matched case-insensitively).
	Aliases []string
	// HubRepo is the Hugging Face repository with open_clip's files.
	HubRepo string
	// OpenAIPath is the path of OpenAI's TorchScript checkpoint under
	// DefaultOpenAIURL; OpenAISHA256 is the sha256 that path embeds.
	OpenAIPath   string
	OpenAISHA256 string
}

// OpenAIFile is the file name of OpenAI's checkpoint (last path element).
func (m Model) OpenAIFile() string {
	return m.OpenAIPath[strings.LastIndexByte(m.OpenAIPath, '/')+1:]
}

// HubFiles lists the files fetched from the hub, config first (small, so a
// wrong repository fails fast).
func HubFiles() []string { return []string{ConfigFile, WeightsFile} }

// Models returns the table of known backbones. It builds a fresh slice on
// every call so callers cannot alter the table.
func Models() []Model {
	return []Model{
		{
			Name:         "ViT-L-14-336",
			Aliases:      []string{"ViT-L-14-336-quickgelu", "ViT-L-14-336px", "ViT-L/14@336px"},
			HubRepo:      "timm/vit_large_patch14_clip_336.openai",
			OpenAIPath:   "clip/models/3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02/ViT-L-14-336px.pt",
			OpenAISHA256: "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02",
		},
		{
			Name:         "ViT-B-16",
			Aliases:      []string{"ViT-B-16-quickgelu", "ViT-B/16"},
			HubRepo:      "timm/vit_base_patch16_clip_224.openai",
			OpenAIPath:   "clip/models/5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f/ViT-B-16.pt",
			OpenAISHA256: "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f",
		},
	}
}

// ModelNames lists the canonical names of the known backbones, sorted.
func ModelNames() []string {
	var names []string
	for _, m := range Models() {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	return names
}

// Lookup finds a known backbone by name or alias, ignoring case.
func Lookup(name string) (Model, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	for _, m := range Models() {
		if strings.ToLower(m.Name) == key {
			return m, nil
		}
		for _, a := range m.Aliases {
			if strings.ToLower(a) == key {
				return m, nil
			}
		}
	}
	return Model{}, fmt.Errorf("unknown backbone %q (known: %s)", name, strings.Join(ModelNames(), ", "))
}

// HubFileURL is the download URL of file in repo on the hub at base
// (Hugging Face's resolve endpoint, which redirects to its CDN).
func HubFileURL(base, repo, file string) string {
	return strings.TrimRight(base, "/") + "/" + repo + "/resolve/main/" + file
}

// OpenAIURL is the download URL of m's OpenAI checkpoint under base.
func (m Model) OpenAIURL(base string) string {
	return strings.TrimRight(base, "/") + "/" + m.OpenAIPath
}
