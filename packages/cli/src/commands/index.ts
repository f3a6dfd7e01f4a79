/** The command table. */
import { dataCommand } from './data.js';
import { convertCommand } from './convert.js';
import { predictCommand } from './predict.js';
import { trainCommand } from './train.js';
import { lrFindCommand } from './lr-find.js';
import { weightsCommand } from './weights.js';
import { exportCommand } from './export.js';

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  train: trainCommand,
  'lr-find': lrFindCommand,
  predict: predictCommand,
  convert: convertCommand,
  data: dataCommand,
  weights: weightsCommand,
  export: exportCommand,
};
