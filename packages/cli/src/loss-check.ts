/**
 * Catches a run that went wrong without a NaN: a learning rate far too high can leave the loss
 * finite but astronomically large (1.4e25) and the model at chance. A loss a hundred times that of
 * a uniform guess (ln of the class count) has exploded; the run says so loudly, in metrics.json too.
 */

/** How many times a guess's loss counts as exploded. */
export const EXPLODED_FACTOR = 100;

/** A warning when the epoch's training or validation loss has exploded, else null. */
export function explodedLossWarning(train: number | null, valid: number | null, numClasses: number): string | null {
  const chance = Math.log(Math.max(2, numClasses));
  const worst = [['valid_loss', valid], ['train_loss', train]].find(([, v]) => typeof v === 'number' && Number.isFinite(v) && v > EXPLODED_FACTOR * chance);
  if (!worst) return null;
  const [name, v] = worst as [string, number];
  return (
    `the loss exploded: ${name} ${v.toPrecision(3)} is ${(v / chance).toPrecision(2)} times a uniform guess's (${chance.toFixed(3)}); ` +
    "the learning rate is far too high and the model is likely no better than chance. Run 'tessera lr-find' with the same dataset and options, " +
    'and train again with the --lr it suggests (valley)'
  );
}
