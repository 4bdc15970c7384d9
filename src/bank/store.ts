import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { ComposerClassifier } from '../model/classifier.ts';
import { BANK_FORMAT, bankManifestSchema, type BankManifest } from '../results/bank.ts';
import type { Calibration, SideFigures } from './calibration.ts';
import { UserError } from '../util/errors.ts';
import { fsError, isDirectory, onPath, writeFileAtomic, readUserFile } from '../util/files.ts';
import { acquireLockNow } from '../util/lock.ts';
import { onInterrupt } from '../util/interrupt.ts';
import { assertInside, isInside, safeSegment } from '../util/paths.ts';
import type { BankConcept, BankLayer, ConceptBank } from './build.ts';
import { npyBytes, readNpy } from './npy.ts';

/**
 * A concept bank on disk: a folder holding `bank.json` (src/results/bank.ts) and one sub-folder
 * per concept with `.npy` arrays per layer:
 *
 *   bank/bank.json
 *   bank/01-alberti/layer3.cavs.npy        float32 [runs, size]
 *   bank/01-alberti/layer3.direction.npy   float32 [size]
 *   bank/01-alberti/layer3.reference.npy   float64 [reference excerpts], ascending
 *   bank/01-alberti/layer3.examples.npy    float64 [examples]
 *
 * The folder is written whole or not at all (staged beside it, then swapped in).
 */
export const BANK_MANIFEST = 'bank.json';

/**
 * Fail early (before a long run) when `dir` cannot take a bank: it exists and is something else
 * than a bank folder. A bank folder (a valid bank.json) is replaced whole, so it may hold only
 * what its bank.json lists: a file of the user's own in it, or any other folder, is never wiped.
 */
export function checkBankTarget(dir: string): void {
  if (!existsSync(dir)) {
    if (isSymlink(dir))
      throw new UserError(`${dir}: is a symbolic link to nothing, expected a folder`);
    return;
  }
  if (!isDirectory(dir)) throw new UserError(`${dir}: exists and is not a folder`);
  const items = readdirSync(dir);
  if (items.length === 0) return;
  if (!items.includes(BANK_MANIFEST)) {
    throw new UserError(
      `${dir}: exists and is not a concept bank (no ${BANK_MANIFEST}); refusing to replace it`,
    );
  }
  const manifestPath = join(dir, BANK_MANIFEST);
  let listed: Set<string>;
  try {
    if (!lstatSync(manifestPath).isFile()) throw new Error('not a file');
    const parsed = bankManifestSchema.parse(
      JSON.parse(readUserFile(manifestPath).toString('utf8')),
    );
    listed = new Set([BANK_MANIFEST]);
    for (const c of parsed.concepts)
      for (const l of c.layers)
        for (const f of [l.cavs, l.direction, l.reference, l.examples]) listed.add(f);
  } catch {
    throw new UserError(
      `${dir}: its ${BANK_MANIFEST} is not a concept bank's; refusing to replace the folder`,
    );
  }
  const foreign = listFilesBelow(dir).filter((f) => !listed.has(f));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? ', ...' : '');
    throw new UserError(
      `${dir}: holds files that are not part of the bank (${shown}); the bank folder is replaced whole, so move them or give another folder`,
    );
  }
}

/** Files and links below `dir` (not following links), `/`-separated paths relative to it. */
function listFilesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk('');
  return out;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

export function writeBank(dir: string, bank: ConceptBank): BankManifest {
  const target = resolve(dir);
  onPath(dirname(target), () => mkdirSync(dirname(target), { recursive: true }));
  // One run at a time writes a bank folder (src/util/lock.ts); a second one exits 2.
  const lock = acquireLockNow(
    join(dirname(target), `.${basename(target)}.lock`),
    dir,
    'writing this concept bank',
  );
  try {
    return writeBankLocked(dir, target, bank);
  } finally {
    lock.release();
  }
}

function writeBankLocked(dir: string, target: string, bank: ConceptBank): BankManifest {
  checkBankTarget(dir);
  const files = new Map<string, Uint8Array>();
  const used = new Set<string>();
  const unique = (path: string) => {
    let p = path;
    for (let k = 2; used.has(p); k++) p = `${path}-${k}`;
    used.add(p);
    return p;
  };
  const concepts = bank.concepts.map((concept, i) => {
    const folder = unique(`${String(i + 1).padStart(2, '0')}-${safeSegment(concept.name)}`);
    return {
      name: concept.name,
      ...(concept.description ? { description: concept.description } : {}),
      examples: concept.examples,
      layers: concept.layers.map((l) => {
        const base = unique(`${folder}/${safeSegment(l.layer)}`);
        const cavs = new Float32Array(l.cavs.length * l.size);
        l.cavs.forEach((v, r) => cavs.set(v, r * l.size));
        const put = (name: string, bytes: Uint8Array) => {
          files.set(`${base}.${name}.npy`, bytes);
          return `${base}.${name}.npy`;
        };
        return {
          layer: l.layer,
          shape: l.shape,
          size: l.size,
          runs: l.cavs.length,
          accuracies: l.accuracies,
          meanAccuracy: l.meanAccuracy,
          reliable: l.reliable,
          cavs: put('cavs', npyBytes({ descr: '<f4', shape: [l.cavs.length, l.size], data: cavs })),
          direction: put(
            'direction',
            npyBytes({ descr: '<f4', shape: [l.size], data: l.direction }),
          ),
          reference: put(
            'reference',
            npyBytes({ descr: '<f8', shape: [l.reference.length], data: l.reference }),
          ),
          examples: put(
            'examples',
            npyBytes({ descr: '<f8', shape: [l.examples.length], data: l.examples }),
          ),
          examplesMedianPresence: l.examplesMedianPresence,
          ...(l.calibration ? { calibration: calibrationToJson(l.calibration) } : {}),
          ...(l.uncalibrated ? { uncalibrated: l.uncalibrated } : {}),
        };
      }),
    };
  });
  const manifest: BankManifest = { ...bank.info, concepts };
  bankManifestSchema.parse(manifest); // a bug if what we write would not load
  const staging = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  const old = join(dirname(target), `.${basename(target)}.old-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const unregister = onInterrupt(() => rmSync(staging, { recursive: true, force: true }));
  try {
    for (const [rel, bytes] of files)
      writeFileAtomic(assertInside(staging, join(staging, rel)), bytes);
    writeFileAtomic(join(staging, BANK_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
    if (existsSync(target)) renameSync(target, old);
    renameSync(staging, target);
    rmSync(old, { recursive: true, force: true });
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(target) && existsSync(old)) renameSync(old, target);
    throw err;
  } finally {
    unregister();
  }
  return manifest;
}

/** Read a bank folder (or its bank.json); a damaged bank is a UserError naming the file. */
export function loadBank(path: string): ConceptBank {
  const dir = isDirectory(path) ? path : dirname(path);
  const manifestPath = join(dir, BANK_MANIFEST);
  if (!existsSync(manifestPath)) {
    throw new UserError(
      `${path}: not a concept bank (no ${BANK_MANIFEST}; write one with tcav --save-bank)`,
    );
  }
  if (isSymlink(manifestPath))
    throw new UserError(
      `${manifestPath}: is a symbolic link; a concept bank's files must be files in its folder`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(readUserFile(manifestPath).toString('utf8'));
  } catch (err) {
    throw new UserError(`${manifestPath}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = bankManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${manifestPath}: ${issue.path.join('.') || 'bank'}: ${issue.message}`);
  }
  const { concepts: entries, ...info } = parsed.data;
  const root = realpathSync(dir);
  const array = (rel: string, descr: '<f4' | '<f8', shape: number[]) => {
    const file = join(dir, rel);
    checkBankFile(root, file);
    const a = readNpy(file);
    if (a.descr !== descr || a.shape.join(',') !== shape.join(',')) {
      throw new UserError(
        `${file}: expected ${descr} [${shape}], found ${a.descr} [${a.shape}] (${manifestPath} does not match its arrays)`,
      );
    }
    const bad = firstNonFinite(a.data);
    if (bad >= 0)
      throw new UserError(
        `${file}: value ${bad} is ${a.data[bad]}; a concept bank holds finite numbers only (the bank is damaged: rebuild it with --save-bank)`,
      );
    return a.data;
  };
  const concepts: BankConcept[] = entries.map((c) => ({
    name: c.name,
    ...(c.description ? { description: c.description } : {}),
    examples: c.examples,
    layers: c.layers.map((l): BankLayer => {
      if (l.size !== l.shape.reduce((a, b) => a * b, 1))
        throw new UserError(`${manifestPath}: ${c.name} at ${l.layer}: size does not match shape`);
      const cavs = array(l.cavs, '<f4', [l.runs, l.size]) as Float32Array;
      const reference = array(l.reference, '<f8', [info.reference.count]) as Float64Array;
      for (let i = 1; i < reference.length; i++) {
        if (!(reference[i] >= reference[i - 1]))
          throw new UserError(`${join(dir, l.reference)}: reference projections are not sorted`);
      }
      const examples = array(l.examples, '<f8', [c.examples]) as Float64Array;
      return {
        layer: l.layer,
        shape: l.shape,
        size: l.size,
        cavs: [...Array(l.runs).keys()].map((r) => cavs.subarray(r * l.size, (r + 1) * l.size)),
        accuracies: l.accuracies,
        meanAccuracy: l.meanAccuracy,
        reliable: l.reliable,
        direction: array(l.direction, '<f4', [l.size]) as Float32Array,
        reference,
        examples,
        examplesMedianPresence: l.examplesMedianPresence,
        ...(l.calibration
          ? { calibration: calibrationFromJson(l.calibration) }
          : {
              uncalibrated:
                l.uncalibrated ??
                (info.format === BANK_FORMAT
                  ? 'not calibrated'
                  : `the bank predates calibration (${info.format}); save it again with tcav --save-bank`),
            }),
      };
    }),
  }));
  return { info, concepts, path: dir };
}

/**
 * A bank's arrays are read only from inside the bank folder and never through a symbolic link (a
 * link planted in a bank could make timeline read any file of the user's).
 */
function checkBankFile(root: string, file: string): void {
  let stat;
  try {
    stat = lstatSync(file);
  } catch (err) {
    throw fsError(file, err);
  }
  if (stat.isSymbolicLink())
    throw new UserError(
      `${file}: is a symbolic link; a concept bank's arrays must be files in its folder`,
    );
  if (!isInside(root, realpathSync(file)))
    throw new UserError(`${file}: lies outside the bank folder ${root}`);
}

/** Index of the first NaN or infinite value, or -1. */
function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/**
 * A bank's CAVs are directions in one model's activation space: refuse it with any other model
 * (or the same model fed a different input spec), in one line.
 */
export function checkBankModel(bank: ConceptBank, classifier: ComposerClassifier): void {
  const where = bank.path ?? 'the concept bank';
  const m = bank.info.model;
  if (m.sha256 !== classifier.sha256) {
    throw new UserError(
      `${where}: built for model ${m.path} (sha256 ${m.sha256.slice(0, 12)}), not ${classifier.path} (sha256 ${classifier.sha256.slice(0, 12)}); build a bank for this model with tcav --save-bank`,
    );
  }
  if (stableJson(m.input) !== stableJson(classifier.input)) {
    throw new UserError(
      `${where}: built for input spec ${stableJson(m.input)}, the model is read with ${stableJson(classifier.input)}`,
    );
  }
  if (m.labels.join('\n') !== classifier.labels.join('\n')) {
    throw new UserError(
      `${where}: built for labels ${m.labels.join(', ')}, the model has ${classifier.labels.join(', ')}`,
    );
  }
  for (const c of bank.concepts) {
    for (const l of c.layers) {
      const shape = classifier.layer(l.layer).shape;
      if (shape.join(',') !== l.shape.join(','))
        throw new UserError(
          `${where}: ${c.name} at ${l.layer} has shape [${l.shape}], the model's layer [${shape}]`,
        );
    }
  }
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

type SideJson = Omit<SideFigures, 'auc' | 'precision' | 'recall'> & {
  auc: number | null;
  precision: number | null;
  recall: number | null;
};

/** NaN figures (undefined) as JSON null, and back. */
function calibrationToJson(c: Calibration) {
  const side = (s: SideFigures): SideJson => ({
    ...s,
    auc: Number.isNaN(s.auc) ? null : s.auc,
    precision: Number.isNaN(s.precision) ? null : s.precision,
    recall: Number.isNaN(s.recall) ? null : s.recall,
  });
  return { ...c, training: side(c.training), heldOut: side(c.heldOut) };
}

function calibrationFromJson(
  c: Omit<Calibration, 'training' | 'heldOut'> & { training: SideJson; heldOut: SideJson },
): Calibration {
  const side = (s: SideJson): SideFigures => ({
    ...s,
    auc: s.auc ?? NaN,
    precision: s.precision ?? NaN,
    recall: s.recall ?? NaN,
  });
  return { ...c, training: side(c.training), heldOut: side(c.heldOut) };
}
