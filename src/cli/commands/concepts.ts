import type { CommandModule } from 'yargs';
import { resolveExamples } from '../../concepts/examples.ts';
import { loadConcepts } from '../../concepts/load.ts';
import { loadCorpus } from '../../corpus/manifest.ts';
import { UserError } from '../../util/errors.ts';
import { log, printResult } from '../output.ts';

interface ValidateArgs {
  path: string[];
  corpus?: string;
  root?: string;
  'window-seconds': number;
  json: boolean;
}

interface ConceptReport {
  name: string;
  file: string;
  examples: number;
  /** Pieces the examples come from (the corpus's piece identity; else the file). */
  pieces: string[];
  counterexamples: number | 'random corpus excerpts';
  relativeTo?: string;
}

const validate: CommandModule<object, ValidateArgs> = {
  command: 'validate <path..>',
  describe: 'Check concept YAML files and count the examples each yields',
  builder: (y) =>
    y
      .positional('path', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'Concept files or folders',
      })
      .option('corpus', {
        type: 'string',
        describe: 'Corpus that corpus: examples refer to (folder or manifest)',
      })
      .option('root', {
        type: 'string',
        describe: "Corpus root folder (overrides the manifest's root)",
      })
      .option('window-seconds', {
        type: 'number',
        default: 20,
        describe: "Length of the model's window",
      })
      .option('json', { type: 'boolean', default: false }),
  handler: async (args) => {
    const { concepts, errors } = loadConcepts(args.path);
    const corpus = args.corpus ? loadCorpus(args.corpus, { root: args.root }) : undefined;
    const corpusRoot = corpus?.root;
    const pieceOfFile = new Map(corpus?.entries.map((e) => [e.file, e.piece]) ?? []);
    const reports: ConceptReport[] = [];
    for (const concept of concepts) {
      try {
        const ctx = { windowSeconds: args['window-seconds'], corpusRoot };
        const examples = await resolveExamples(concept, 'examples', ctx);
        const counter = concept.spec.counterexamples
          ? (await resolveExamples(concept, 'counterexamples', ctx)).length
          : 'random corpus excerpts';
        reports.push({
          name: concept.spec.name,
          file: concept.path,
          examples: examples.length,
          pieces: [
            ...new Set(
              examples.flatMap((x) => {
                const piece = x.piece ?? (x.file && (pieceOfFile.get(x.file) ?? x.file));
                return piece ? [piece] : [];
              }),
            ),
          ].sort(),
          counterexamples: concept.spec.relativeTo ? 0 : counter,
          ...(concept.spec.relativeTo ? { relativeTo: concept.spec.relativeTo } : {}),
        });
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        errors.push({ file: concept.path, reason: err.message });
      }
    }
    printResult(args.json, { concepts: reports, errors }, () =>
      reports
        .map((r) => {
          const against = r.relativeTo
            ? `against concept ${r.relativeTo}`
            : `against ${r.counterexamples}`;
          const from =
            r.pieces.length > 0
              ? `\n      from ${r.pieces.length} piece(s): ${r.pieces.join('; ')}`
              : '';
          return `ok  ${r.name.padEnd(24)} ${String(r.examples).padStart(4)} examples, ${against}${from}`;
        })
        .join('\n'),
    );
    if (errors.length > 0) {
      if (!args.json) for (const e of errors) log(`bad ${e.reason}`);
      throw new UserError(`${errors.length} concept file(s) with errors (listed above)`);
    }
  },
};

export const conceptsCommand: CommandModule = {
  command: 'concepts <command>',
  describe: 'Work with concept definitions (YAML)',
  builder: (y) => y.command(validate).demandCommand(1),
  handler: () => {},
};
