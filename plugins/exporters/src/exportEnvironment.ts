import { layerInsights, tierInsights, type Strata } from '@strata/core';
import type { ExportEnvironment } from './exportDataset.js';
import { createExportRegistry, type ExportRegistryOptions } from './exportRegistry.js';

/**
 * What exports read from a started Strata: its tiers, the insights of its hot tier with the warm
 * tier's months layered under them (`layerInsights`: ranges reaching months retention moved to the
 * warm tier are answered from both, as one answer), and every format and source its plugins contribute.
 */
export function exportEnvironmentOf(
  strata: Pick<Strata, 'storage' | 'insights' | 'contributions'>,
  options: Pick<ExportRegistryOptions, 'formats' | 'sources' | 'onSkipped'> = {},
): ExportEnvironment {
  const hot = strata.storage('hot');
  return {
    registry: createExportRegistry({ ...options, contributions: (key) => strata.contributions(key) }),
    storage: (role) => strata.storage(role),
    insights: hot ? layerInsights(tierInsights(hot), strata.storage('warm')?.insights) : strata.insights,
  };
}
