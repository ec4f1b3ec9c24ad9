/** What the explorer page receives (model.js, faces.js): plain JSON, shared by the page and the Node side. */
export interface ExplorerModel {
  title: string;
  /** The checkpoint's config.json (CheckpointMeta). */
  config: unknown;
  /** The checkpoint's weights.json and weights.bin (base64), byte for byte: the files the CLI reads. */
  weightsIndex: unknown;
  weightsBase64: string;
  /**
   * The model folder's learned σ (metrics/sigmaNet.ts), where it ships one: its card (the
   * validation scale its output is multiplied by) and its weight files, byte for byte.
   */
  sigmaNet?: { card: unknown; weightsIndex: unknown; weightsBase64: string };
  /** How far forced attributes go where the page is not told otherwise: the model card's (modelAttributeStrength), else 1. */
  attributeStrength?: number;
}

export interface ExplorerFace {
  name: string;
  /** size × size × 3 RGB bytes, preprocessed as the model's training faces were. */
  pixelsBase64: string;
  /** The face's own attribute values (0 | 1) where known, for attribute models. */
  attributes?: Record<string, number>;
}
