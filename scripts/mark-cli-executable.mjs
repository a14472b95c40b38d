// Marks the CLI entry (package.json "bin") executable after tsc writes it. npm sets the bit only when
// it links the bin while installing the package; `npx recurrent` run in a folder that npx has seen
// before reuses that earlier link, so a fresh clone or build there met "Permission denied".
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const target of Object.values(bin ?? {})) chmodSync(join(root, target), 0o755);
