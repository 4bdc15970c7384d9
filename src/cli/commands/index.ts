import type { CommandModule } from 'yargs';
import { conceptsCommand } from './concepts.ts';
import { corpusCommand } from './corpus.ts';
import { modelCommand } from './model.ts';
import { tcavCommand } from './tcav.ts';
import { discoverCommand } from './discover.ts';
import { explainCommand } from './explain.ts';
import { similarCommand } from './similar.ts';
import { attackCommand } from './attack.ts';
import { timelineCommand } from './timeline.ts';
import { detectCommand } from './detect.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  corpusCommand,
  conceptsCommand,
  modelCommand,
  tcavCommand,
  discoverCommand,
  explainCommand,
  similarCommand,
  attackCommand,
  timelineCommand,
  detectCommand,
];
