// Package hub fetches CLIP backbone weights into a local cache and describes
// safetensors files.
//
// Known backbones are a read-only table (Models) mapping a name such as
// ViT-L-14-336 to the Hugging Face repository that holds its open_clip
// files (open_clip_config.json and open_clip_model.safetensors) and to
// OpenAI's original TorchScript checkpoint, whose URL embeds its sha256.
// Pull downloads one backbone into <cache>/models/<name>: resumable,
// verified, retried on transient errors, and recorded in a manifest so
// that a later Pull re-checks the files instead of fetching them again.
package hub
