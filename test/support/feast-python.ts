/**
 * Where the Python Feast used by the tests lives: the venv that scripts/ensure-feast-venv.sh
 * builds, at `$LARDER_FEAST_VENV` (default `~/.cache/larder/venv-feast`, under root's home in CI).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface FeastPython {
  /** The venv's Python interpreter. */
  readonly python: string;
  /** The venv's `feast` CLI. */
  readonly feast: string;
}

/** The venv's interpreter and `feast` CLI; throws, saying how to get them, when they are missing. */
export function feastPython(): FeastPython {
  const venv = process.env.LARDER_FEAST_VENV || join(homedir(), '.cache', 'larder', 'venv-feast');
  const python = join(venv, 'bin', 'python');
  const feast = join(venv, 'bin', 'feast');
  const missing = [python, feast].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    throw new Error(
      `No Python Feast venv at ${venv} (missing ${missing.join(', ')}). ` +
        'Run scripts/ensure-feast-venv.sh, or point LARDER_FEAST_VENV at a venv with feast installed.',
    );
  }
  return { python, feast };
}
