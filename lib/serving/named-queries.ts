import * as fs from 'node:fs';
import * as path from 'node:path';

/** A reference question answered in SQL, one file each under ./queries. */
export interface ReferenceQuery {
  /** File name without `.sql`. */
  readonly name: string;
  /** The file's first line, a `--` comment. */
  readonly description: string;
  readonly sql: string;
}

export const QUERIES_DIR = path.join(__dirname, 'queries');

/** Reads every reference query; each file must open with a one-line `--` description. */
export function referenceQueries(): ReferenceQuery[] {
  return fs
    .readdirSync(QUERIES_DIR)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const text = fs.readFileSync(path.join(QUERIES_DIR, file), 'utf8').trim();
      const [first] = text.split('\n');
      if (!first.startsWith('-- ')) throw new Error(`${file}: the first line must be a '-- ' description.`);
      return { name: file.replace(/\.sql$/, ''), description: first.slice(3).trim(), sql: text };
    });
}
