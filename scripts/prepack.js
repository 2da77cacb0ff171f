// `prepack` of every published workspace (run in the workspace's directory by `npm pack` and
// `npm publish`): refuse to pack a package whose dist/ was not built — its `exports` would point
// at missing files — and put the repository's LICENSE in the package (`postpack` removes it).
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
if (process.argv[2] === 'post') {
  rmSync('LICENSE', { force: true });
} else {
  const entries = Object.values(manifest.exports ?? {})
    .map((e) => (typeof e === 'object' ? e.default : undefined))
    .filter(Boolean);
  const missing = entries.filter((e) => !existsSync(e));
  if (missing.length > 0) {
    process.stderr.write(`${manifest.name}: ${missing.join(', ')} missing; run \`npm run build\` at the repository root before packing\n`);
    process.exit(1);
  }
  copyFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'LICENSE'), 'LICENSE');
}
