import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NdjsonTail } from '../../sandbox/ndjson-tail';

describe('NdjsonTail: an append-only NDJSON file read incrementally', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ndjson-tail-'));
    file = path.join(dir, 'lines.ndjson');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const tailOf = () => new NdjsonTail(file, (line) => (JSON.parse(line) as { n: number }).n);

  test('a missing file has no lines yet', () => {
    expect(tailOf().readNew()).toEqual([]);
  });

  test('each read returns only what was appended since the last, in order', () => {
    const tail = tailOf();
    fs.writeFileSync(file, '{"n":1}\n{"n":2}\n');
    expect(tail.readNew()).toEqual([1, 2]);
    expect(tail.readNew()).toEqual([]);
    fs.appendFileSync(file, '{"n":3}\n');
    expect(tail.readNew()).toEqual([3]);
  });

  test('a line still being written waits for its newline, even cut inside a multi-byte character', () => {
    const tail = new NdjsonTail(file, (line) => (JSON.parse(line) as { s: string }).s);
    const line = Buffer.from('{"s":"café"}\n');
    const cut = line.indexOf(Buffer.from('é')) + 1;
    fs.writeFileSync(file, line.subarray(0, cut));
    expect(tail.readNew()).toEqual([]);
    fs.appendFileSync(file, line.subarray(cut));
    expect(tail.readNew()).toEqual(['café']);
  });

  test('lines the parser skips are left out; a file replaced by a shorter one is read from its start', () => {
    const tail = new NdjsonTail(file, (line) => {
      const n = (JSON.parse(line) as { n: number }).n;
      return n % 2 === 0 ? n : undefined;
    });
    fs.writeFileSync(file, '{"n":1}\n{"n":2}\n{"n":4}\n');
    expect(tail.readNew()).toEqual([2, 4]);
    fs.writeFileSync(file, '{"n":6}\n');
    expect(tail.readNew()).toEqual([6]);
  });
});
