import type { Lesson, LessonContext } from './runner';
import { crashLesson } from './crash';
import { lambdaKappaLesson } from './lambda-kappa';
import { lateDataLesson } from './late-data';
import { poisonLesson } from './poison';
import { replayLesson } from './replay';
import { windowsLesson } from './windows';

/**
 * `npm run sandbox -- lesson <name>`: short experiments on the real engines, each showing one concept
 * and checking it (docs/lessons/). They run in this order against one sandbox (the test does so); the
 * replay lesson comes last, as it leaves a stream job with a changed property serving.
 */

/** A sandbox started for the lessons checkpoints this often, so the windows they close reach the lake sooner. */
export const LESSON_CHECKPOINT_INTERVAL_MS = 5000;

export const LESSONS: readonly Lesson[] = [windowsLesson, lateDataLesson, poisonLesson, lambdaKappaLesson, crashLesson, replayLesson];

/** The named lessons (all for none, or 'all'), in the order they run in. */
export function selectLessons(names: readonly string[]): Lesson[] {
  if (names.length === 0 || names.includes('all')) return [...LESSONS];
  for (const name of names) {
    if (!LESSONS.some((l) => l.name === name)) throw new Error(`No lesson '${name}'. The lessons: ${LESSONS.map((l) => l.name).join(', ')}.`);
  }
  return LESSONS.filter((l) => names.includes(l.name));
}

/** Runs one lesson with a heading and its time; throws (LessonFailed) when its point does not hold. */
export async function runLesson(lesson: Lesson, context: LessonContext): Promise<number> {
  const began = Date.now();
  context.out(`\n== Lesson: ${lesson.title} ==`);
  await lesson.run(context);
  const seconds = (Date.now() - began) / 1000;
  context.out(`(lesson '${lesson.name}' took ${seconds.toFixed(0)} s)`);
  return seconds;
}

export { LessonFailed, type Lesson, type LessonContext } from './runner';
