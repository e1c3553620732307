// The dataset the insight passes read (top patches, neighbours, the map): null = the model's own
// (its run's dataset; an error names the choice for models that have none).
export const insightData = $state<{ dataset: string | null }>({ dataset: null });

/** The jobs' `dataset` parameter: absent for the model's own. */
export function datasetParam(): { dataset?: string } {
  return insightData.dataset ? { dataset: insightData.dataset } : {};
}
