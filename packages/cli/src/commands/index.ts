/** The command table. Commands whose issue has not landed say so and exit 2. */
import { dataCommand } from './data.js';
import { convertCommand } from './convert.js';
import { predictCommand } from './predict.js';

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

function notYet(name: string, summary: string, issue: number): Command {
  return {
    summary: `${summary} (not yet)`,
    async run() {
      console.error(`tessera ${name}: not yet implemented (tracked in issue #${issue}).`);
      return 2;
    },
  };
}

export const commands: Record<string, Command> = {
  train: notYet('train', 'fine-tune a model on a folder of images', 6),
  'lr-find': notYet('lr-find', 'suggest a learning rate', 6),
  predict: predictCommand,
  convert: convertCommand,
  data: dataCommand,
};
