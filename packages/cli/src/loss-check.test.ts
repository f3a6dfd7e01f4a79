import { describe, expect, it } from 'vitest';
import { explodedLossWarning } from './loss-check.js';

describe('explodedLossWarning', () => {
  it('flags a loss orders of magnitude above a uniform guess, and tells the user to run lr-find', () => {
    // Fine-tuning at --lr 1000 on two classes ended with validation loss 1.4e25.
    const w = explodedLossWarning(3.2e24, 1.4e25, 2);
    expect(w).toMatch(/^the loss exploded: valid_loss 1\.40e\+25 is 2\.0e\+25 times a uniform guess's \(0\.693\)/);
    expect(w).toMatch(/Run 'tessera lr-find' .* --lr it suggests/);
    expect(explodedLossWarning(500, 1.2, 3)).toMatch(/train_loss 500/);
  });

  it('stays quiet for ordinary, overfitting or non-finite losses (those are divergence, caught elsewhere)', () => {
    expect(explodedLossWarning(0.7, 0.69, 2)).toBeNull();
    expect(explodedLossWarning(0.01, 8, 2)).toBeNull(); // an overconfident model, not an explosion
    expect(explodedLossWarning(null, null, 10)).toBeNull();
    expect(explodedLossWarning(NaN, Infinity, 10)).toBeNull();
  });
});
