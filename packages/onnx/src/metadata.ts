/**
 * What an exported model's metadata_props say, so that a consumer (ONNX Runtime in another
 * language, Netron, a person) can feed it without Tessera: the class names in output order,
 * the input size, the resize rule in words, and the mean and std of the normalisation.
 * `tessera.preprocess` keeps Tessera's own form so an import restores it exactly.
 */
import type { ModelMeta, Preprocess } from '@tessera/nn';
import { IMAGENET_STATS } from '@tessera/vision';

const RESIZE_RULES: Record<Preprocess['resize'], string> = {
  crop: 'resize the shorter side to round(size*256/224) (bilinear), then take the centre size x size',
  'align-corners': 'resize to size x size (bilinear, align_corners=True), ignoring the aspect ratio',
};

export function onnxMetadata(meta: ModelMeta): Record<string, string> {
  const p = meta.preprocess;
  const { mean, std } = p.normalize === 'imagenet' ? IMAGENET_STATS : { mean: [0, 0, 0], std: [1, 1, 1] };
  return {
    classes: JSON.stringify(meta.classes),
    input: `float32 NCHW [batch, 3, ${p.size}, ${p.size}], RGB scaled to [0, 1], then (x - mean) / std per channel`,
    size: String(p.size),
    resize: RESIZE_RULES[p.resize],
    mean: JSON.stringify([...mean]),
    std: JSON.stringify([...std]),
    output: 'logits (apply softmax for probabilities)',
    'tessera.arch': meta.arch,
    'tessera.kind': meta.kind,
    'tessera.preprocess': JSON.stringify(p),
  };
}
