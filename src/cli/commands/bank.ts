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
 * builds the bank (in memory; `saveBank` writes it where --save-bank says, as the run's last step).
 */
export function bankStage(args: BankFlags) {
  const collector = new CavCollector();
  return {
    collector,
    build: (lens: ConceptLens, prepared: PreparedConcept[], modelPath: string) =>
      buildBank(lens, collector.cavs, prepared, {
        modelPath,
        seed: args.seed,
        runs: args['random-runs'],
        setSize: args['set-size'],
        minCavAccuracy: TCAV_DEFAULTS.minCavAccuracy,
        referenceExcerpts: args['bank-excerpts'],
        warn: log,
      }),
  };
}

export function saveBank(args: Pick<BankFlags, 'save-bank'>, bank: ConceptBank | undefined): void {
  if (args['save-bank'] && bank) writeBank(args['save-bank'], bank);
}
