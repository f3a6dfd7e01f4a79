/** Test-only TF.js layers-model builder: Keras layer entries and the model.json around them. */

/** One Keras layer as a functional model's config lists it. */
export function kerasLayer(name: string, className: string, config: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, class_name: className, config: { name, ...config }, inbound_nodes: [] };
}

/** A layers-model model.json (Keras 2.1.6 functional topology) with the given layers and weight groups. */
export function layersModelJson(layers: Record<string, unknown>[], weightsManifest: Record<string, unknown>[]): Record<string, unknown> {
  return {
    format: 'layers-model',
    modelTopology: {
      keras_version: '2.1.6', backend: 'tensorflow',
      model_config: { class_name: 'Model', config: { name: 'm', layers } },
    },
    weightsManifest,
  };
}
