import type { PlatformConfig } from './config';

/**
 * Which processing paths a configuration builds (`architecture`):
 * - `kappa`: stream processing (Flink) and its Kappa replay, served by the `serving_` views;
 * - `lambda`: the batch layer, served with the speed layer by the `lambda_` views; no Flink;
 * - `both`: everything.
 * The event log, archive, speed layer, lake, serving and observability are built in every mode.
 */
export interface ArchitectureLayers {
  /** The Flink job and the Kappa replay (stacks stream-processing and reprocessing). */
  readonly streamProcessing: boolean;
  /** The scheduled batch recompute and the `lambda_` views (stack batch-layer). */
  readonly batchLayer: boolean;
}

export function architectureLayers(config: Pick<PlatformConfig, 'architecture'>): ArchitectureLayers {
  return {
    streamProcessing: config.architecture !== 'lambda',
    batchLayer: config.architecture !== 'kappa',
  };
}
