/** conv2d's public function with its CPU twin (see defineApi): in the test OpSet, so gradCheck takes convolutions. */
// The OpSet entries below augment the test vocabulary (type only: no test code ships).
import type {} from '../../testing/ops.js';
import { defineApi } from '../registry.js';
import { conv2d, type Conv2dOptions } from './op.js';
import * as twin from './twin.js';

export * from './op.js';

defineApi({ conv2d: { gpu: conv2d, twin: twin.conv2d } });

declare module '../../testing/ops.js' {
  interface OpSet<T> {
    conv2d(x: T, w: T, bias?: T | null, opts?: Conv2dOptions): T;
  }
}
