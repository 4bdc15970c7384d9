import { join } from 'node:path';
import { REPO } from '../helpers/cli.ts';

/** The foreign-model fixtures written by training/fixtures/make_foreign_fixtures.py. */
export const FOREIGN = join(REPO, 'test', 'fixtures', 'foreign');
export const CORPUS = join(FOREIGN, 'corpus.yaml');
export const model = (name: string) => join(FOREIGN, `${name}.onnx`);
export const CONCEPTS = [
  join(REPO, 'concepts/textures/alberti.yaml'),
  join(REPO, 'concepts/textures/chorale.yaml'),
];

/** Tiny TCAV settings: the matrix checks that runs complete and agree, not musical findings. */
export const FAST = [
  '--random-runs',
  '3',
  '--set-size',
  '6',
  '--target-excerpts',
  '6',
  '--no-cache',
  '--quiet',
];
export const FAST_DISCOVERY = ['--discovery-excerpts', '6', '--concepts-count', '4'];
