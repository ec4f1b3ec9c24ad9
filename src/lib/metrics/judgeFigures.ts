import type { FaceDataset } from '../data/faceDataset';
import { attributeProbabilities, talliesOf, type AttributeClassifier, type VerdictTally } from './attributeClassifier';
import { perAttributeThresholds } from './pretrainedJudge';

/**
 * A judge's verdicts on held-out faces two ways: its own (p > 0.5; the pretrained judge's cut is
 * chosen for balanced accuracy), and with each attribute's cut chosen for plain accuracy on the
 * sharp validation faces — the figure CelebA's published classifiers report, which a balanced cut
 * lowers on rare attributes by trading accuracy for recall.
 */
export interface JudgeFigures {
  own: VerdictTally[];
  atAccuracyCuts: VerdictTally[];
  /** Per attribute, the accuracy cut on p. */
  accuracyCuts: number[];
}

export async function judgeFigures(judge: AttributeClassifier, ds: FaceDataset, faces: number[] = ds.splits.test): Promise<JudgeFigures> {
  const a = ds.attributeNames.length;
  const val = await attributeProbabilities(judge, ds, ds.splits.val);
  const accuracyCuts = perAttributeThresholds(val.p, val.y, a, 'accuracy');
  const { p, y } = await attributeProbabilities(judge, ds, faces);
  return { own: talliesOf(p, y, a), atAccuracyCuts: talliesOf(p, y, a, accuracyCuts), accuracyCuts };
}
