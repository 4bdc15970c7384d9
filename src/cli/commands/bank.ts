import type { Argv } from 'yargs';
import {
  buildBank,
  CavCollector,
  DEFAULT_REFERENCE_EXCERPTS,
  type ConceptBank,
} from '../../bank/build.ts';
import { checkBankTarget, writeBank } from '../../bank/store.ts';
import type { ConceptLens } from '../../lens/lens.ts';
import { TCAV_DEFAULTS, type PreparedConcept } from '../../tcav/run.ts';
import { log } from '../output.ts';

/** `--save-bank` and its companion, shared by tcav and explain. */
export interface BankFlags {
  'save-bank'?: string;
  'bank-excerpts': number;
  seed: number;
  'random-runs': number;
  'set-size': number;
}

export function bankOptions<T>(y: Argv<T>) {
  return y
    .option('save-bank', {
      type: 'string',
      describe: 'Also write the trained CAVs as a concept bank to this folder (for timeline)',
    })
    .option('bank-excerpts', {
      type: 'number',
      default: DEFAULT_REFERENCE_EXCERPTS,
      describe: 'Corpus excerpts a bank measures presence against',
    });
}

/** Before a long run: the bank folder must be writable as a bank. */
export function checkBankFlags(args: Pick<BankFlags, 'save-bank'>): void {
  if (args['save-bank']) checkBankTarget(args['save-bank']);
}

/**
 * A bank in the making: collects the CAVs during TCAV (`collector.add` is runTcav's onCavs), then
 * builds the bank, writing it when `--save-bank` names a folder.
 */
export function bankStage(args: BankFlags, save: boolean) {
  const collector = new CavCollector();
  return {
    collector,
    async build(
      lens: ConceptLens,
      prepared: PreparedConcept[],
      modelPath: string,
    ): Promise<ConceptBank> {
      const bank = await buildBank(lens, collector.cavs, prepared, {
        modelPath,
        seed: args.seed,
        runs: args['random-runs'],
        setSize: args['set-size'],
        minCavAccuracy: TCAV_DEFAULTS.minCavAccuracy,
        referenceExcerpts: args['bank-excerpts'],
        warn: log,
      });
      if (save && args['save-bank']) writeBank(args['save-bank'], bank);
      return bank;
    },
  };
}

/** For tcav: the bank stage when --save-bank is given. */
export function saveBankStage(args: BankFlags) {
  if (!args['save-bank']) return undefined;
  const stage = bankStage(args, true);
  return {
    collector: stage.collector,
    save: (lens: ConceptLens, prepared: PreparedConcept[], modelPath: string) =>
      stage.build(lens, prepared, modelPath),
  };
}
