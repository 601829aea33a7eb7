export * from './types';
export { generateWorkload, resolveOptions, runIdOf, recordKey, type ResolvedOptions } from './generate';
export { writeRun, readRun, readRecordedFile, eventsText, EVENTS_FILE, GROUND_TRUTH_FILE } from './run-files';
