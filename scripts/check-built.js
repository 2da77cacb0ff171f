// `prepack` of every workspace: refuse to pack a package whose dist/ was not built, which would
// publish a package whose `exports` point at missing files.
import { existsSync, readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const entry = manifest.exports?.['.']?.default;
if (entry && !existsSync(entry)) {
  process.stderr.write(`${manifest.name}: ${entry} is missing; run \`npm run build\` at the repository root before packing\n`);
  process.exit(1);
}
