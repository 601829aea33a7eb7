import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lastGoodCopy, processMarker, restoreLastGood, Supervisor } from '../../sandbox/engines/supervisor';
import { defaultSettings } from '../../sandbox/settings';

// kinesis-local rewrites its state file in place on a timer and, with a client connected, neither exits on
// SIGTERM nor finishes its last write: killed mid-write, the file is cut short and a restart loses every
// stream. This stands in for that behaviour with a real process, so the stop and the restore are tested
// without waiting for a large Kinesis state.
const WRITER = `
const fs = require('node:fs');
const file = process.argv[1];
let n = 0;
const write = (finish) => {
  n += 1;
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, '{"n":' + n + ',"pad":"' + 'x'.repeat(100000));
  if (finish) { fs.writeSync(fd, '"}'); fs.closeSync(fd); }
};
const timer = setInterval(() => write(true), 1000);
// SIGTERM stops the timed writes and starts one it never finishes; the process stays: only SIGKILL ends it.
process.on('SIGTERM', () => { clearInterval(timer); write(false); });
`;

let home: string;
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-flush-'));
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

test('stopping keeps the last complete write of a state file, and a start puts it back when a kill cut the file short', async () => {
  const settings = defaultSettings(path.resolve(__dirname, '..', '..'), { home });
  const supervisor = new Supervisor(settings, { stopTimeoutMs: 1000 });
  const file = path.join(home, 'state.json');
  const marker = processMarker(settings, 'state-writer');
  await supervisor.start({
    name: 'state-writer', command: process.execPath, args: ['-e', WRITER, file, marker], marker,
    flush: { file, timeoutMs: 5000 },
  });
  while (!fs.existsSync(file)) await new Promise((r) => setTimeout(r, 50));
  await supervisor.stop('state-writer');

  // The SIGTERM write was cut by the SIGKILL: the file itself no longer parses.
  expect(() => JSON.parse(fs.readFileSync(file, 'utf8'))).toThrow();
  const kept = JSON.parse(fs.readFileSync(lastGoodCopy(file), 'utf8'));
  expect(kept.n).toBeGreaterThan(0);

  expect(restoreLastGood(file)).toBe(true);
  expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(kept);
  // A whole file is never replaced.
  expect(restoreLastGood(file)).toBe(false);
});
