import * as fs from 'node:fs';
import { LESSON_CHECKPOINT_INTERVAL_MS, LESSONS, runLesson } from '../../sandbox/lessons';
import { startSandbox, type Sandbox } from '../../sandbox/session';
import { testSettings } from '../helpers/sandbox';

/**
 * Every lesson of `npm run sandbox -- lesson <name>` (issue 15), run in order against ONE sandbox of the
 * test's own on Kafka: each lesson is an experiment on the real engines that throws when its point does not
 * hold, so running it is its test. Lessons that need a sandbox to themselves start one of their own.
 */

const ONLY = process.env.LESSONS?.split(',').filter(Boolean);

describe('the sandbox lessons', () => {
  let sandbox: Sandbox;
  let home: string | undefined;
  const seconds: Record<string, number> = {};

  beforeAll(async () => {
    const settings = await testSettings('tributary-lessons', { log: 'kafka' });
    home = settings.home;
    const began = Date.now();
    sandbox = await startSandbox(settings, { flinkCheckpointIntervalMs: LESSON_CHECKPOINT_INTERVAL_MS });
    seconds.startup = (Date.now() - began) / 1000;
  }, 300_000);

  afterAll(async () => {
    console.log(`lesson times (s): ${JSON.stringify(seconds)}`);
    await sandbox?.log.close();
    await sandbox?.supervisor.stopAll();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  }, 120_000);

  for (const lesson of LESSONS.filter((l) => !ONLY || ONLY.includes(l.name))) {
    it(`${lesson.name}: ${lesson.title}`, async () => {
      const lines: string[] = [];
      try {
        seconds[lesson.name] = await runLesson(lesson, { sandbox, out: (line) => lines.push(line) });
      } finally {
        console.log(lines.join('\n'));
      }
    }, 300_000);
  }
});
