import { ensureFlinkJar } from '../lib/constructs/flink-application';

/** Builds the Flink jar once, before any worker synthesizes, so parallel workers never race a Maven build. */
export default function globalSetup(): void {
  ensureFlinkJar();
}
