/**
 * Tilescope command line: the analysis core run headless in Node on the
 * TF.js wasm backend. `src/cli/run.mjs` bundles this file with Vite and
 * calls main(); see src/cli/README.md.
 *
 * Exit codes: 0 success, 1 failure (`<file>: <reason>` on stderr),
 * 2 usage error (message and usage on stderr).
 */
import { CliError, UsageError, messageOf } from './args';
import { processIO, type CliIO } from './io';

export const USAGE = `Usage: tilescope <command> [options]

Commands:
  analyze            run a model over a slide and write tables, GeoJSON, a map and the model
  classify           run a trained classifier on a slide (class map) or a folder of images
  cross-validate     k-fold cross-validation of Mobincep or OrgaNet on a folder or a synthetic set
  cluster            fuzzy c-means or k-means on a numeric CSV table
  nuclei             find nuclei without labels (crosswise-sparse CAE) and write points with features
  synth-cish         write a synthetic CISH slide as a tiled pyramidal TIFF
  train-classifier   train Mobincep or OrgaNet on a folder with one sub-folder of images per class

Run 'tilescope <command> --help' for the options of a command.`;

type Command = (argv: string[], io: CliIO) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  analyze: async () => (await import('./analyze')).runAnalyze,
  classify: async () => (await import('./classify')).runClassify,
  cluster: async () => (await import('./cluster')).runCluster,
  'cross-validate': async () => (await import('./cross-validate')).runCrossValidate,
  nuclei: async () => (await import('./nuclei')).runNuclei,
  'synth-cish': async () => (await import('./synth')).runSynth,
  'train-classifier': async () => (await import('./train-classifier')).runTrainClassifier,
};

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '') {
    io.stderr(`error: no command given\n\n${USAGE}\n`);
    return 2;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    io.stdout(USAGE + '\n');
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr(`error: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return await (await load())(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`error: ${err.message}\n\n${err.usage ?? USAGE}\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.stderr(`${err.file}: ${err.reason}\n`);
      return 1;
    }
    io.stderr(`${name}: ${messageOf(err)}\n`);
    if (process.env.TILESCOPE_DEBUG) io.stderr(`${(err as Error).stack ?? ''}\n`);
    return 1;
  }
}
